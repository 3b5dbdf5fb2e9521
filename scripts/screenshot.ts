/**
 * npm run screenshot: the README's picture of the dashboard (docs/dashboard.png), produced, not
 * drawn. Starts the mock upstream, a gateway (with a Redis L2 when redis-server is installed) and
 * a headless Chromium, sends a day of varied traffic through the real gateway, logs in through the
 * form and captures the page.
 *
 * The only thing simulated is the clock of the dashboard's time series: the gateway is given a
 * clock that starts 24 hours back and catches up with real time as the traffic is sent, so the
 * charts show a day's shape in a minute of running. Every figure is what the gateway counted.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/gateway/logger.js';
import { createGateway } from '../src/gateway/server.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { type RedisHandle, startRedis } from '../test/helpers/redis-server.js';
import { startMockUpstream } from '../test/mock-upstream/index.js';

const TOKEN = 'screenshot-admin-token-0123';
const OUT = join(import.meta.dirname, '..', 'docs', 'dashboard.png');
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A small deterministic generator, so the picture is the same from run to run. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mock = await startMockUpstream();
const redis: RedisHandle | undefined = hasRedis() ? await startRedis() : undefined;
let offset = 24 * HOUR;
const gateway = createGateway(
  parseConfig({
    logLevel: 'silent',
    port: 0,
    upstream: mock.openaiBaseURL,
    anthropicUpstream: mock.anthropicBaseURL,
    adminToken: TOKEN,
    cache: { maxEntryBytes: 48 * 1024, memoryMaxBytes: 32 * 1024 * 1024 },
    ...(redis ? { redis: { url: redis.url } } : {}),
  }),
  { logger: createLogger('silent'), now: () => Date.now() - offset },
);
const url = await gateway.listen();
const rand = random(14);

interface Workload {
  path: string;
  namespace: string;
  /** Distinct prompts: fewer means more repeats, so more hits. */
  prompts: number;
  weight: number;
  body: (prompt: string) => unknown;
  headers: Record<string, string>;
}

const openai = { authorization: 'Bearer sk-demo-tenant', 'x-mock-delay-ms': '6', 'x-mock-words': '40' };
const anthropic = {
  'x-api-key': 'sk-ant-demo-tenant',
  'anthropic-version': '2023-06-01',
  'x-mock-delay-ms': '8',
  'x-mock-words': '60',
};
const chat = (model: string, extra: object = {}) => (prompt: string) => ({
  model,
  messages: [{ role: 'user', content: prompt }],
  ...extra,
});
const workloads: Workload[] = [
  { path: '/v1/chat/completions', namespace: 'support-bot', prompts: 160, weight: 5, body: chat('gpt-4o-mini'), headers: openai },
  {
    path: '/v1/chat/completions',
    namespace: 'support-bot',
    prompts: 80,
    weight: 2,
    body: chat('gpt-4o-mini', { stream: true, stream_options: { include_usage: true } }),
    headers: openai,
  },
  { path: '/v1/chat/completions', namespace: 'search', prompts: 240, weight: 2, body: chat('gpt-4o'), headers: openai },
  {
    path: '/v1/messages',
    namespace: 'agents',
    prompts: 90,
    weight: 2,
    body: (p) => ({ model: 'claude-sonnet-4-5', max_tokens: 512, stream: true, messages: [{ role: 'user', content: p }] }),
    headers: anthropic,
  },
  {
    path: '/v1/messages',
    namespace: 'agents',
    prompts: 60,
    weight: 1,
    body: (p) => ({ model: 'claude-haiku-4-5', max_tokens: 256, messages: [{ role: 'user', content: p }] }),
    headers: anthropic,
  },
  {
    path: '/v1/embeddings',
    namespace: 'rag',
    prompts: 200,
    weight: 2,
    body: (p) => ({ model: 'text-embedding-3-small', input: p }),
    headers: { authorization: 'Bearer sk-demo-tenant' },
  },
  // Streams without include_usage: their hits are "usage unknown", and the page says so.
  { path: '/v1/chat/completions', namespace: 'evals', prompts: 40, weight: 1, body: chat('gpt-4.1-mini', { stream: true }), headers: openai },
];
const totalWeight = workloads.reduce((a, w) => a + w.weight, 0);

function pick(): Workload {
  let r = rand() * totalWeight;
  for (const w of workloads) if ((r -= w.weight) < 0) return w;
  return workloads[0] as Workload;
}

let unique = 0;

/** `fresh`: a prompt never sent before, so the call reaches the upstream (knobs are headers, not key). */
async function send(w: Workload, extra: Record<string, string> = {}, fresh = false): Promise<void> {
  // Skewed toward the first prompts, as real traffic is.
  const prompt = fresh
    ? `${w.namespace} one-off ${unique++}`
    : `${w.namespace} question ${Math.floor(w.prompts * rand() ** 1.6)}`;
  const res = await fetch(`${url}${w.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sluice-namespace': w.namespace, ...w.headers, ...extra },
    body: JSON.stringify(w.body(prompt)),
  });
  await res.arrayBuffer();
}

/** One call: mostly ordinary, some of the kinds that are not stored, some bypass or refresh. */
function call(): Promise<void> {
  const w = pick();
  const r = rand();
  const streams = w.path !== '/v1/embeddings';
  if (r < 0.012) return send(w, { 'x-mock-status': '429' }, true);
  if (r < 0.016) return send(w, { 'x-mock-status': '500' }, true);
  if (r < 0.022 && streams) return send(w, { 'x-mock-truncate': '3' }, true);
  if (r < 0.026 && w.namespace === 'support-bot') return send(w, { 'x-mock-words': '9000', 'x-mock-delay-ms': '0' }, true);
  if (r < 0.05) return send(w, { 'cache-control': 'no-store' });
  if (r < 0.06) return send(w, { 'cache-control': 'no-cache' });
  return send(w);
}

/** `size` calls at the current simulated time, 32 at a time. */
async function batch(size: number): Promise<void> {
  for (let done = 0; done < size; done += 32) {
    await Promise.all(Array.from({ length: Math.min(32, size - done) }, call));
  }
}

/** Identical calls at the same moment share one upstream answer. */
async function coalesced(): Promise<void> {
  const w = workloads[2] as Workload;
  const body = JSON.stringify(w.body(`burst ${Math.floor(rand() * 1e9)}`));
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      const res = await fetch(`${url}${w.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...w.headers, 'x-sluice-namespace': w.namespace },
        body,
      });
      await res.arrayBuffer();
    }),
  );
}

// The day: a daily curve of load, one batch per simulated hour, then the last hour minute by minute
// (the hour bucket an hour ago is left to the minute traffic, so no hour gets both).
for (let hoursAgo = 23; hoursAgo >= 2; hoursAgo--) {
  offset = hoursAgo * HOUR;
  const hourOfDay = new Date(Date.now() - offset).getHours();
  const load = 0.35 + 0.65 * Math.max(0, Math.sin(((hourOfDay - 6) / 24) * 2 * Math.PI));
  await batch(Math.round(60 + 160 * load));
}
for (let minutesAgo = 59; minutesAgo >= 0; minutesAgo--) {
  offset = minutesAgo * MINUTE;
  await batch(1 + Math.round(3 * rand() + 2 * Math.sin(minutesAgo / 9) ** 2));
  if (minutesAgo % 12 === 5) await coalesced();
}
offset = 0;
// Let the last writes land before the picture.
await new Promise((resolve) => setTimeout(resolve, 300));

const browser = await launchChromium({ width: 1440, height: 900 });
try {
  const page = await browser.context.newPage();
  await page.goto(`${url}/dashboard`);
  await page.fill('#token', TOKEN);
  await page.click('button[type=submit]');
  await page.waitForSelector('body[data-updated]');
  await mkdir(join(OUT, '..'), { recursive: true });
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await gateway.close();
  await redis?.stop();
  await mock.close();
}
