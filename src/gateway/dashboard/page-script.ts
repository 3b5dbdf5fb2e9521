/**
 * The dashboard's script, sent inline (CSP nonce). Plain browser JavaScript with no dependencies:
 * it polls /admin/stats with the session cookie and redraws. Every value from the server goes in
 * through textContent or an SVG attribute, never as HTML, so model or namespace names cannot inject.
 * Each figure element gets `data-value` (the raw number) beside its formatted text, for tests.
 */
export const DASHBOARD_SCRIPT = String.raw`
(() => {
  'use strict';
  const REFRESH_MS = 5000;
  const OUTCOMES = ['HIT', 'SEMANTIC-HIT', 'COALESCED', 'MISS', 'REFRESH', 'BYPASS', 'ERROR'];
  const COLOR = { HIT: 'hit', 'SEMANTIC-HIT': 'semantic', COALESCED: 'coalesced', MISS: 'miss', REFRESH: 'refresh', BYPASS: 'bypass', ERROR: 'error' };
  const css = getComputedStyle(document.documentElement);
  const color = (o) => css.getPropertyValue('--' + COLOR[o]).trim();
  const csrf = document.querySelector('meta[name="sluice-csrf"]').content;
  const SVG = 'http://www.w3.org/2000/svg';
  let last;
  // The fleet's figures by default, when Redis gives them (GET /admin/stats → fleet).
  let scope = 'fleet';

  const el = (tag, props, children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else if (k === 'width') node.style.width = v;
      else if (k === 'bg') node.style.background = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.append(child);
    return node;
  };
  const sv = (tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const int = (n) => Math.round(n).toLocaleString('en-US');
  const compact = (n) => n >= 1e6 ? (n / 1e6).toFixed(n >= 1e7 ? 1 : 2) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : int(n);
  const usd = (n) => n === 0 ? '$0.00' : n < 0.01 ? '$' + n.toFixed(4) : '$' + n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const pct = (r) => r === null ? '–' : (r * 100).toFixed(1) + '%';
  const bytes = (n) => {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  };
  const duration = (ms) => {
    if (ms < 1000) return Math.round(ms) + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + Math.round(s % 60) + ' s';
    const h = Math.floor(m / 60);
    return h + ' h ' + (m % 60) + ' min';
  };
  const age = (s) => s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min' : s < 86400 ? (s / 3600).toFixed(1) + ' h' : (s / 86400).toFixed(1) + ' d';
  const clock = (ms, withMinutes) => {
    const d = new Date(ms);
    const hh = String(d.getHours()).padStart(2, '0');
    return withMinutes ? hh + ':' + String(d.getMinutes()).padStart(2, '0') : hh + ':00';
  };

  function figure(name, value, text) {
    for (const node of document.querySelectorAll('[data-figure="' + name + '"]')) {
      node.dataset.value = value === null || value === undefined ? '' : String(value);
      node.textContent = text;
    }
  }

  function legend(name, series) {
    const box = document.querySelector('[data-legend="' + name + '"]');
    box.replaceChildren();
    for (const o of OUTCOMES) {
      const total = series.counts[o].reduce((a, b) => a + b, 0);
      const b = el('b', { text: int(total), 'data-figure': name + '-' + o, 'data-value': String(total) });
      box.append(el('span', {}, [el('span', { class: 'sw', bg: color(o) }), o + ' ', b]));
    }
  }

  function niceMax(n) {
    if (n <= 4) return 4;
    const p = Math.pow(10, Math.floor(Math.log10(n)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
    return 10 * p;
  }

  function chart(id, series, withMinutes, labelEvery) {
    const box = document.getElementById(id);
    const W = Math.max(320, box.clientWidth), H = box.clientHeight || 180;
    const left = 38, right = 6, top = 8, bottom = 22;
    const plotW = W - left - right, plotH = H - top - bottom;
    const n = series.starts.length;
    const totals = series.starts.map((_, i) => OUTCOMES.reduce((a, o) => a + series.counts[o][i], 0));
    const max = niceMax(Math.max(0, ...totals));
    const svg = sv('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    for (const f of [0, 0.5, 1]) {
      const y = top + plotH - f * plotH;
      svg.append(sv('line', { x1: left, x2: W - right, y1: y, y2: y, stroke: f === 0 ? '#cfd4dc' : '#eceef2' }));
      svg.append(sv('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, int(max * f)));
    }
    const step = plotW / n, barW = Math.max(1, step * 0.74);
    for (let i = 0; i < n; i++) {
      const x = left + i * step + (step - barW) / 2;
      const g = sv('g');
      let y = top + plotH;
      const parts = [];
      for (const o of OUTCOMES) {
        const v = series.counts[o][i];
        if (!v) continue;
        const h = (v / max) * plotH;
        y -= h;
        g.append(sv('rect', { x: x, y: y, width: barW, height: Math.max(h, 0.5), fill: color(o), rx: barW > 6 ? 1.5 : 0 }));
        parts.push(o + ' ' + v);
      }
      g.append(sv('title', {}, clock(series.starts[i], withMinutes) + (parts.length ? ' · ' + parts.join(', ') : ' · no requests')));
      // An invisible full-height target, so the tooltip shows on empty buckets too.
      g.prepend(sv('rect', { x: left + i * step, y: top, width: step, height: plotH, fill: 'transparent' }));
      svg.append(g);
      if ((n - 1 - i) % labelEvery === 0) {
        svg.append(sv('text', { x: x + barW / 2, y: H - 6, 'text-anchor': 'middle' }, i === n - 1 ? 'now' : clock(series.starts[i], withMinutes)));
      }
    }
    if (totals.every((t) => t === 0)) {
      svg.append(sv('text', { x: left + plotW / 2, y: top + plotH / 2, 'text-anchor': 'middle', class: 'empty' }, 'no requests in this window'));
    }
    box.replaceChildren(svg);
  }

  /** Hit ratio per hour over the day, as a line; hours without lookups leave a gap. */
  function spark(id, series) {
    const box = document.getElementById(id);
    const W = Math.max(120, box.clientWidth), H = box.clientHeight || 34;
    const n = series.starts.length;
    const svg = sv('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
    const x = (i) => (i / (n - 1)) * (W - 2) + 1;
    const y = (r) => 2 + (1 - r) * (H - 16);
    svg.append(sv('line', { x1: 0, x2: W, y1: y(0), y2: y(0), stroke: '#eceef2' }));
    let path = '', pen = false, lastPoint;
    for (let i = 0; i < n; i++) {
      const hits = series.counts.HIT[i] + series.counts['SEMANTIC-HIT'][i];
      const looked = hits + series.counts.COALESCED[i] + series.counts.MISS[i];
      if (!looked) { pen = false; continue; }
      path += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(hits / looked).toFixed(1) + ' ';
      pen = true;
      lastPoint = [x(i), y(hits / looked)];
    }
    if (path) svg.append(sv('path', { d: path, fill: 'none', stroke: color('HIT'), 'stroke-width': 2, 'stroke-linejoin': 'round' }));
    if (lastPoint) svg.append(sv('circle', { cx: lastPoint[0], cy: lastPoint[1], r: 3, fill: color('HIT') }));
    svg.append(sv('text', { x: 0, y: H - 1 }, '24 h ago'));
    svg.append(sv('text', { x: W, y: H - 1, 'text-anchor': 'end' }, 'hit ratio per hour · now'));
    box.replaceChildren(svg);
  }

  function rows(id, items, cells, empty) {
    const body = document.getElementById(id);
    body.replaceChildren();
    if (items.length === 0) {
      body.append(el('tr', { class: 'empty-row' }, [el('td', { text: empty, colspan: '9' })]));
      return;
    }
    for (const item of items) {
      body.append(el('tr', { 'data-row': id }, cells(item).map(([text, cls, title]) => el('td', { text: text, class: cls || '', title: title || text }))));
    }
  }

  function stackBar(id, parts) {
    const total = parts.reduce((a, p) => a + p[1], 0);
    const bar = document.getElementById(id);
    bar.replaceChildren(...parts.filter((p) => p[1] > 0).map(([name, v, c]) =>
      el('div', { width: (100 * v) / total + '%', bg: c, title: name + ' ' + int(v) })));
  }

  const hitRatioOf = (by) => {
    const hits = by.HIT + by['SEMANTIC-HIT'];
    const looked = hits + by.COALESCED + by.MISS;
    return looked ? hits / looked : null;
  };

  /** The KPI figures of the fleet in the local snapshot's shape (counts the fleet does not keep are null). */
  function fleetFigures(s) {
    const f = s.fleet;
    return {
      requests: { total: f.requests.total, byOutcome: f.requests.byOutcome, hitRatio: hitRatioOf(f.requests.byOutcome) },
      savings: { ...s.savings, tokens: f.tokensSaved, usd: f.usdSaved, timeSavedMs: f.timeSavedMs, usageUnknown: null, unpriced: null, durationUnknown: null },
    };
  }

  function renderFleet(s) {
    const ok = Boolean(s.fleet && s.fleet.requests);
    document.getElementById('scope').hidden = !ok;
    document.getElementById('fleet-card').hidden = !ok;
    for (const b of document.querySelectorAll('[data-scope]')) b.setAttribute('aria-pressed', String(b.dataset.scope === scope));
    document.body.dataset.scope = ok ? scope : 'replica';
    if (!ok) return false;
    const f = s.fleet;
    figure('fleet-replicas', f.replicas, int(f.replicas));
    figure('fleet-window', f.windowMinutes, f.windowMinutes % 60 ? f.windowMinutes + ' min' : f.windowMinutes / 60 + ' h');
    const since = (iso) => age(Math.max(0, Math.round((Date.parse(s.now) - Date.parse(iso)) / 1000))) + ' ago';
    rows('fleet-members', f.members, (m) => [[m.id, 'mono'], [since(m.startedAt)], [since(m.lastReportAt)], [int(m.requests.total), 'num'],
      [int(m.requests.byOutcome.HIT + m.requests.byOutcome['SEMANTIC-HIT']), 'num'], [compact(m.tokensSaved.input), 'num'], [compact(m.tokensSaved.output), 'num'], [usd(m.usdSaved), 'num']], 'no replica reported yet');
    return scope === 'fleet';
  }

  function render(snapshot) {
    const s = renderFleet(snapshot) ? { ...snapshot, ...fleetFigures(snapshot) } : snapshot;
    const by = s.requests.byOutcome;
    const hits = by.HIT + by['SEMANTIC-HIT'];
    figure('hit-ratio', s.requests.hitRatio, pct(s.requests.hitRatio));
    figure('hits', hits, int(hits));
    figure('lookups', hits + by.COALESCED + by.MISS, int(hits + by.COALESCED + by.MISS));
    figure('requests-total', s.requests.total, int(s.requests.total));
    stackBar('outcome-bar', OUTCOMES.map((o) => [o, by[o], color(o)]));
    const note = document.getElementById('outcome-note');
    note.replaceChildren(...OUTCOMES.filter((o) => by[o] > 0).flatMap((o, i) => [i ? ' · ' : '', el('b', { text: int(by[o]), 'data-figure': 'outcome-' + o, 'data-value': String(by[o]) }), ' ' + o.toLowerCase()]));
    if (s.requests.total === 0) note.textContent = 'no requests yet';

    const sav = s.savings;
    figure('tokens-input', sav.tokens.input, compact(sav.tokens.input));
    figure('tokens-output', sav.tokens.output, compact(sav.tokens.output));
    const maybe = (n) => n === null ? '–' : int(n);
    figure('usage-unknown', sav.usageUnknown, maybe(sav.usageUnknown));
    figure('usd-saved', sav.usd, usd(sav.usd));
    figure('unpriced', sav.unpriced, maybe(sav.unpriced));
    figure('prices-date', sav.pricesDate, sav.pricesDate);
    document.getElementById('overrides').textContent = sav.priceOverrides ? ' + ' + sav.priceOverrides + ' configured' : '';
    figure('time-saved', sav.timeSavedMs, duration(sav.timeSavedMs));
    figure('duration-unknown', sav.durationUnknown, maybe(sav.durationUnknown));

    legend('minute', s.series.minute);
    legend('hour', s.series.hour);
    chart('chart-minute', s.series.minute, true, 10);
    chart('chart-hour', s.series.hour, false, 4);
    spark('ratio-spark', s.series.hour);

    const w = s.storeWrites;
    figure('writes-stored', w.stored, int(w.stored));
    figure('writes-skipped', w.skipped, int(w.skipped));
    stackBar('write-bar', [['stored', w.stored, color('HIT')], ['not stored', w.skipped, color('MISS')]]);
    const reasons = document.getElementById('skip-reasons');
    const list = Object.entries(w.skippedByReason);
    reasons.replaceChildren(...(list.length ? [] : [el('div', { class: 'note', text: w.stored ? 'every recorded answer was stored' : 'nothing recorded yet' })]));
    const top = Math.max(1, ...list.map((r) => r[1]));
    const grid = el('div', { class: 'reason' });
    for (const [reason, count] of list) {
      grid.append(el('div', { class: 'r', text: reason, title: reason }), el('b', { text: int(count), 'data-figure': 'skip-' + reason, 'data-value': String(count) }),
        el('div', { class: 'meter' }, [el('div', { width: (100 * count) / top + '%' })]));
    }
    if (list.length) reasons.append(grid);

    const l1 = s.stores.l1;
    figure('l1-entries', l1.entries, int(l1.entries));
    figure('l1-bytes', l1.bytes, bytes(l1.bytes));
    figure('l1-max-bytes', l1.maxBytes, bytes(l1.maxBytes));
    stackBar('l1-bar', [['used', l1.bytes, 'var(--accent)'], ['free', Math.max(0, l1.maxBytes - l1.bytes), 'transparent']]);
    const l2 = s.stores.l2;
    const pill = (text, kind) => el('span', { class: 'pill ' + kind, text: text });
    const state = document.querySelector('[data-figure="l2-state"]');
    const breaker = document.querySelector('[data-figure="l2-breaker"]');
    if (l2) {
      state.replaceChildren(pill(l2.reachable ? 'reachable' : 'unreachable', l2.reachable ? 'ok' : 'bad'));
      breaker.replaceChildren(pill(l2.breaker, l2.breaker === 'closed' ? 'ok' : 'bad'));
      state.dataset.value = String(l2.reachable); breaker.dataset.value = l2.breaker;
      figure('l2-timeouts-5m', l2.timeoutsLastFiveMinutes, int(l2.timeoutsLastFiveMinutes));
      figure('l2-timeouts-1h', l2.timeoutsLastHour, int(l2.timeoutsLastHour));
    } else {
      state.replaceChildren(pill('not configured', 'off'));
      breaker.replaceChildren(pill('–', 'off'));
      state.dataset.value = 'none'; breaker.dataset.value = 'none';
      figure('l2-timeouts-5m', null, '–');
      figure('l2-timeouts-1h', null, '–');
    }
    figure('in-flight', s.inFlight, int(s.inFlight));

    rows('top-models', s.top.models, (m) => [[m.name, 'mono'], [int(m.hits), 'num']], 'no hits yet');
    rows('top-namespaces', s.top.namespaces, (m) => [[m.name, 'mono'], [int(m.hits), 'num']], 'no hits yet');
    rows('by-upstream', s.upstreams, (u) => [[u.name, 'mono'], [int(u.requests), 'num'], [int(u.hits), 'num'], [int(u.misses), 'num'], [int(u.errors), 'num']], 'no requests yet');
    rows('top-entries', s.top.entries, (e) => [[e.keyPrefix + '…', 'mono'], [e.model, 'mono'], [e.namespace, 'mono'], [e.format + ' · ' + e.protocol], [bytes(e.bytes), 'num'], [age(e.ageSeconds), 'num'], [int(e.hits), 'num']], 'no hits yet');

    document.getElementById('updated').textContent = 'updated ' + new Date(s.now).toLocaleTimeString('en-GB') + ' · every ' + REFRESH_MS / 1000 + ' s';
    document.body.dataset.updated = s.now;
  }

  async function refresh() {
    try {
      const res = await fetch('/admin/stats', { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (res.status === 401) { location.reload(); return; }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      last = await res.json();
      render(last);
    } catch (err) {
      document.getElementById('updated').textContent = 'update failed (' + err.message + '), retrying';
    }
  }

  document.getElementById('logout').addEventListener('click', async () => {
    await fetch('/dashboard/logout', { method: 'POST', headers: { 'x-sluice-csrf': csrf } });
    location.reload();
  });
  for (const button of document.querySelectorAll('[data-scope]')) {
    button.addEventListener('click', () => { scope = button.dataset.scope; if (last) render(last); });
  }
  let resizeTimer;
  addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => last && render(last), 150); });
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
`;
