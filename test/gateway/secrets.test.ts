import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, sleep } from './harness.js';

/**
 * Secrets never reach a log, /metrics or /admin/*: at the most verbose level, with credentials
 * planted in every place a client or an operator can put one, through hits, misses, bypasses,
 * every kind of refusal and failure, the grep finds none of them.
 */

const SECRETS = {
  bearer: 'sk-PLANTED-bearer-4f1d',
  xApiKey: 'sk-ant-PLANTED-xapikey-77c2',
  azure: 'PLANTED-azure-api-key-9a0e',
  goog: 'PLANTED-goog-api-key-1b3c',
  queryKey: 'PLANTED-query-key-5e6f',
  queryApiKey: 'PLANTED-query-api-key-8d9a',
  redisPassword: 'PLANTED-redis-password-2c4b',
  upstreamKey: 'sk-PLANTED-upstream-key-0f0f',
  adminToken: 'PLANTED-admin-token-0123456789',
};

let mock: MockUpstream;
let redis: RedisHandle;
let gateway: Gateway;
let url: string;
const lines: string[] = [];

beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis({ password: SECRETS.redisPassword });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  gateway = createGateway(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'trace',
      upstream: mock.openaiBaseURL,
      anthropicUpstream: mock.anthropicBaseURL,
      anthropicApiKey: SECRETS.upstreamKey,
      adminToken: SECRETS.adminToken,
      redis: { url: redis.url },
      limits: { maxRequestBodyBytes: 64 * 1024 },
    }),
    { logger: createLogger('trace', sink) },
  );
  url = await gateway.listen();
}, 30_000);
afterAll(async () => {
  await gateway.close();
  await redis.stop();
  await mock.close();
});

const credentialHeaders: Record<string, string>[] = [
  { authorization: `Bearer ${SECRETS.bearer}` },
  { 'x-api-key': SECRETS.xApiKey },
  { 'api-key': SECRETS.azure },
  { 'x-goog-api-key': SECRETS.goog },
];
const queries = [`?key=${SECRETS.queryKey}`, `?api-key=${SECRETS.queryApiKey}&api-version=2024-10-21`];

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  }).catch(() => undefined);
  await res?.text().catch(() => undefined);
  return res;
}

test('no planted secret appears in any log line, /metrics or /admin/* at log level trace', async () => {
  const chat = JSON.stringify(chatBody('secrets', { stream: true }));
  const messages = JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 16,
    messages: [{ role: 'user', content: 'secrets' }],
    stream: true,
  });
  for (const headers of credentialHeaders) {
    for (const query of ['', ...queries]) {
      const fresh = { 'cache-control': 'no-cache' };
      for (const knobs of [
        {},
        {},
        { ...fresh, 'x-mock-status': '500' },
        { ...fresh, 'x-mock-truncate': '2' },
        { ...fresh, 'x-mock-reset': '2' },
        { ...fresh, 'x-mock-error-event': '1' },
      ]) {
        await post(`/v1/chat/completions${query}`, chat, { ...headers, ...knobs });
        await post(`/v1/messages${query}`, messages, { ...headers, ...knobs });
      }
      await post(`/v1/chat/completions${query}`, '{"model": ', headers); // not JSON
      await post(`/v1/chat/completions${query}`, `{"a":${'['.repeat(500)}${']'.repeat(500)}}`, headers);
      await post(`/v1/chat/completions${query}`, 'x'.repeat(100 * 1024), headers); // 413
      await post(`/v1/chat/completions${query}`, chat, { ...headers, 'cache-control': 'no-store' });
      await post(`/v1/chat/completions${query}`, chat, { ...headers, 'x-sluice-ttl': 'soon' });
      await fetch(`${url}/v1/models${query}`, { headers }).then((r) => r.text());
      await fetch(`${url}/v1/nowhere${query}`, { method: 'POST', headers, body: '{}' }).then((r) => r.text());
      await fetch(`${url}/v1/chat/completions${query}`, { headers }).then((r) => r.text()); // 405
    }
  }
  // A header block over the limit, with a credential in it and in the query.
  await new Promise<void>((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () =>
      socket.write(
        `POST /v1/chat/completions${queries[0]} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${SECRETS.bearer}\r\nx-big: ${'y'.repeat(20_000)}\r\n\r\n`,
      ),
    );
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  // An unexpected failure inside a handler: the error path logs the URL.
  const store = gateway.context.store;
  const lookup = store.lookup.bind(store);
  const lookupNow = store.lookupNow.bind(store);
  // Both ways in: the entry is in L1, so the synchronous lookup would answer first.
  store.lookup = () => Promise.reject(new Error('planted failure'));
  store.lookupNow = () => {
    throw new Error('planted failure');
  };
  await post(`/v1/chat/completions${queries[1]}`, chat, credentialHeaders[0] as Record<string, string>);
  store.lookup = lookup;
  store.lookupNow = lookupNow;
  await sleep(100);

  const admin = { authorization: `Bearer ${SECRETS.adminToken}` };
  const stats = await (await fetch(`${url}/admin/stats`, { headers: admin })).text();
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const [entry] = gateway.context.l1.keys();
  expect(entry).toBeDefined();
  const inspect = await (await fetch(`${url}/admin/entries/${entry}`, { headers: admin })).text();
  expect(inspect).toContain('"bodyBytes"');
  const purge = await (
    await fetch(`${url}/admin/purge`, { method: 'POST', headers: admin, body: JSON.stringify({ all: true }) })
  ).text();

    expect(lines.length).toBeGreaterThan(50);
  expect(lines.some((l) => l.includes('unhandled error') && l.includes('[redacted]'))).toBe(true);
  const everything = [...lines, stats, metrics, inspect, purge].join('\n');
  for (const [name, secret] of Object.entries(SECRETS)) {
    expect(everything.includes(secret), `${name} leaked`).toBe(false);
  }
}, 120_000);
