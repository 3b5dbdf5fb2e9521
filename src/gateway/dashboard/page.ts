import { DASHBOARD_SCRIPT } from './page-script.js';

/**
 * The dashboard as one self-contained HTML document: inline CSS, inline script, SVG drawn by
 * the script. Nothing is fetched from anywhere but this gateway (/admin/stats), so it works on
 * a machine with no internet, and there is no build step.
 */

const STYLE = `
:root {
  --bg: #f4f5f7; --card: #fff; --ink: #1d2330; --muted: #687385; --line: #e3e6eb; --accent: #2563eb;
  --hit: #1f9d55; --semantic: #14a3a3; --coalesced: #4f7ee8; --miss: #e5a11a; --refresh: #8b5cf6;
  --bypass: #a0a8b4; --error: #dc3f3f;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif;
  color: var(--ink); background: var(--bg); font-size: 14px; line-height: 1.4;
}
* { box-sizing: border-box; }
body { margin: 0; }
header { background: #111827; color: #f9fafb; padding: 14px 28px; display: flex; align-items: center; gap: 14px; }
header h1 { font-size: 18px; margin: 0; font-weight: 650; letter-spacing: .2px; }
header .sub { color: #9ca3af; font-size: 13px; }
header .spacer { flex: 1; }
header .updated { color: #9ca3af; font-size: 12px; }
header button { background: transparent; color: #e5e7eb; border: 1px solid #4b5563; border-radius: 6px; padding: 5px 12px; cursor: pointer; font: inherit; font-size: 13px; }
header button:hover { background: #1f2937; }
header button[aria-pressed="true"] { background: #374151; border-color: #9ca3af; }
header .scope { display: flex; gap: 4px; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 28px 36px; display: grid; gap: 16px; }
.row { display: grid; gap: 16px; }
.kpis { grid-template-columns: repeat(5, minmax(0, 1fr)); }
.two { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
.three { grid-template-columns: repeat(3, minmax(0, 1fr)); }
@media (max-width: 1000px) { .kpis, .two, .three { grid-template-columns: minmax(0, 1fr); } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; min-width: 0; }
.card h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 0 0 10px; font-weight: 600; }
.big { font-size: 30px; font-weight: 650; letter-spacing: -.5px; font-variant-numeric: tabular-nums; }
.big small { font-size: 15px; color: var(--muted); font-weight: 500; letter-spacing: 0; }
.note { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.note b { color: var(--ink); font-weight: 600; }
.pair { display: flex; gap: 18px; }
.pair > div { min-width: 0; }
.pair .big { font-size: 24px; }
.label { color: var(--muted); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 13px; margin: -2px 0 8px; font-size: 12.5px; color: var(--muted); }
.legend span.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.legend b { color: var(--ink); font-weight: 600; font-variant-numeric: tabular-nums; }
.chart { width: 100%; height: 190px; }
.chart.small { height: 150px; }
.chart svg { display: block; }
.chart text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
.chart .empty { font-size: 13px; }
.spark { height: 34px; margin-top: 8px; }
.spark svg { display: block; overflow: visible; }
.spark text { font-size: 10.5px; fill: var(--muted); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; padding: 5px 8px 5px 0; border-bottom: 1px solid var(--line); }
td { padding: 6px 8px 6px 0; border-bottom: 1px solid #f0f2f5; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 260px; }
td.num, th.num { text-align: right; }
td.mono { font-family: "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
tr:last-child td { border-bottom: none; }
.empty-row td { color: var(--muted); font-style: italic; }
.bar { height: 10px; background: #eef0f3; border-radius: 5px; overflow: hidden; display: flex; margin: 8px 0 4px; }
.bar > div { height: 100%; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.pill.ok { background: #dcfce7; color: #166534; } .pill.bad { background: #fee2e2; color: #991b1b; } .pill.off { background: #eef0f3; color: var(--muted); }
.kv { display: grid; grid-template-columns: auto 1fr; gap: 5px 14px; font-variant-numeric: tabular-nums; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; text-align: right; font-weight: 550; }
.reason { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 4px 12px; align-items: center; margin-top: 8px; }
.reason .r { font-family: "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; overflow: hidden; text-overflow: ellipsis; }
.reason .meter { grid-column: 1 / -1; height: 5px; background: #eef0f3; border-radius: 3px; overflow: hidden; margin-bottom: 2px; }
.reason .meter > div { height: 100%; background: var(--miss); }
.login { max-width: 380px; margin: 12vh auto; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 26px 28px; }
.login h1 { font-size: 20px; margin: 0 0 4px; }
.login p { color: var(--muted); margin: 0 0 18px; }
.login label { display: block; font-weight: 600; margin-bottom: 6px; }
.login input { width: 100%; padding: 9px 11px; border: 1px solid #cfd4dc; border-radius: 7px; font: inherit; }
.login button { margin-top: 14px; width: 100%; padding: 9px; border: 0; border-radius: 7px; background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
.login .error { background: #fee2e2; color: #991b1b; border-radius: 7px; padding: 8px 11px; margin-bottom: 14px; }
`;

const MARK = `<svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true"><path d="M3 5h18l-7 8v5l-4 2v-7z" fill="#60a5fa"/></svg>`;

function shell(nonce: string, title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">${head}
<style nonce="${nonce}">${STYLE}</style></head>
<body>${body}</body></html>`;
}

/** The login form; `error` is one of our own fixed sentences, never request input. */
export function loginPage(options: { nonce: string; error?: string }): string {
  const error = options.error ? `<div class="error" role="alert">${options.error}</div>` : '';
  return shell(
    options.nonce,
    'Sluice · sign in',
    '',
    `<form class="login" method="post" action="/dashboard/login">
<h1>${MARK} Sluice dashboard</h1><p>Sign in with the gateway's admin token.</p>${error}
<input type="text" name="username" value="admin" autocomplete="username" hidden>
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>`,
  );
}

/** The dashboard; figures are filled in by the script from /admin/stats and refreshed every 5 s. */
export function dashboardPage(options: { nonce: string; csrf: string }): string {
  const { nonce, csrf } = options;
  return shell(
    nonce,
    'Sluice · dashboard',
    `<meta name="sluice-csrf" content="${csrf}">`,
    `<header>${MARK}<h1>Sluice</h1><span class="sub">cache dashboard</span><span class="spacer"></span>
<span class="scope" id="scope" hidden><button type="button" data-scope="fleet" aria-pressed="true">Fleet</button><button type="button" data-scope="replica" aria-pressed="false">This replica</button></span>
<span class="updated" id="updated">loading…</span><button id="logout" type="button">Sign out</button></header>
<main>
<section class="card" id="fleet-card" hidden><h2>Replicas · <span data-figure="fleet-replicas">0</span> reporting in the last minute · figures of the last <span data-figure="fleet-window">24 h</span></h2>
<table><thead><tr><th>replica</th><th>started</th><th>last report</th><th class="num">requests</th><th class="num">hits</th><th class="num">input tokens saved</th><th class="num">output tokens saved</th><th class="num">money saved</th></tr></thead>
<tbody id="fleet-members"></tbody></table>
<div class="note">Request and savings figures above are the fleet's (summed in Redis, within 5 s) when Fleet is selected; charts, writes, stores and top lists are this replica's.</div></section>
<section class="row kpis">
  <div class="card"><h2>Hit ratio</h2><div class="big" data-figure="hit-ratio">–</div>
    <div class="note"><b data-figure="hits">0</b> hits of <b data-figure="lookups">0</b> lookups</div>
    <div class="spark" id="ratio-spark" title="hit ratio per hour, last 24 hours"></div></div>
  <div class="card"><h2>Requests</h2><div class="big" data-figure="requests-total">0</div>
    <div class="bar" id="outcome-bar"></div><div class="note" id="outcome-note"></div></div>
  <div class="card"><h2>Tokens saved</h2><div class="pair">
    <div><div class="big" data-figure="tokens-input">0</div><div class="label">input</div></div>
    <div><div class="big" data-figure="tokens-output">0</div><div class="label">output</div></div></div>
    <div class="note"><b data-figure="usage-unknown">0</b> hits with usage unknown</div></div>
  <div class="card"><h2>Money saved (est.)</h2><div class="big" data-figure="usd-saved">$0.00</div>
    <div class="note">prices of <b data-figure="prices-date"></b><span id="overrides"></span> · <b data-figure="unpriced">0</b> hits unpriced</div></div>
  <div class="card"><h2>Time saved</h2><div class="big" data-figure="time-saved">0 s</div>
    <div class="note">upstream time minus replay · <b data-figure="duration-unknown">0</b> hits unmeasured</div></div>
</section>
<section class="card"><h2>Requests by outcome · last hour, per minute</h2>
  <div class="legend" data-legend="minute"></div><div class="chart" id="chart-minute"></div></section>
<section class="row two">
  <div class="card"><h2>Requests by outcome · last 24 hours, per hour</h2>
    <div class="legend" data-legend="hour"></div><div class="chart small" id="chart-hour"></div></div>
  <div class="card"><h2>Writes</h2><div class="pair">
    <div><div class="big" data-figure="writes-stored">0</div><div class="label">stored</div></div>
    <div><div class="big" data-figure="writes-skipped">0</div><div class="label">not stored</div></div></div>
    <div class="bar" id="write-bar"></div><div id="skip-reasons"></div></div>
</section>
<section class="row three">
  <div class="card"><h2>Stores</h2><dl class="kv">
    <dt>L1 entries</dt><dd data-figure="l1-entries">0</dd>
    <dt>L1 memory</dt><dd><span data-figure="l1-bytes">0</span> of <span data-figure="l1-max-bytes">0</span></dd></dl>
    <div class="bar" id="l1-bar"></div>
    <dl class="kv"><dt>L2 (Redis)</dt><dd data-figure="l2-state">–</dd>
    <dt>Breaker</dt><dd data-figure="l2-breaker">–</dd>
    <dt>Timeouts, 5 min / 1 h</dt><dd><span data-figure="l2-timeouts-5m">–</span> / <span data-figure="l2-timeouts-1h">–</span></dd>
    <dt>In flight</dt><dd data-figure="in-flight">0</dd></dl></div>
  <div class="card"><h2>Top models by hits</h2><table><thead><tr><th>model</th><th class="num">hits</th></tr></thead><tbody id="top-models"></tbody></table></div>
  <div class="card"><h2>Top namespaces by hits</h2><table><thead><tr><th>namespace</th><th class="num">hits</th></tr></thead><tbody id="top-namespaces"></tbody></table></div>
</section>
<section class="card"><h2>Requests by upstream</h2><table><thead><tr><th>upstream</th><th class="num">requests</th><th class="num">hits</th><th class="num">misses</th><th class="num">errors</th></tr></thead><tbody id="by-upstream"></tbody></table></section>
<section class="card"><h2>Most-hit entries</h2><table><thead><tr><th>key</th><th>model</th><th>namespace</th><th>format</th><th class="num">size</th><th class="num">age</th><th class="num">hits</th></tr></thead>
<tbody id="top-entries"></tbody></table></section>
</main>
<script nonce="${nonce}">${DASHBOARD_SCRIPT}</script>`,
  );
}
