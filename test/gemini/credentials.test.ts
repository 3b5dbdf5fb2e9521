import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { contents, geminiPath, settle } from './helpers.js';

/**
 * Gemini keys: the client's key (x-goog-api-key or ?key=) is never logged, at the most verbose
 * level, through misses, hits, failures and pass-throughs; a configured --gemini-api-key replaces
 * the client's key wherever the client put it.
 */

const PLANTED_HEADER = 'AIza-PLANTED-header-7c1e';
const PLANTED_QUERY = 'AIza-PLANTED-query-3b9d';
const UPSTREAM_KEY = 'AIza-PLANTED-upstream-0a0a';

let mock: MockUpstream;
let open: Gateway;
let keyed: Gateway;
let openUrl: string;
let keyedUrl: string;
const lines: string[] = [];

function gateway(extra: Record<string, unknown>): Gateway {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return createGateway(
    parseConfig({ port: 0, host: '127.0.0.1', logLevel: 'trace', geminiUpstream: mock.geminiBaseURL, ...extra }),
    { logger: createLogger('trace', sink) },
  );
}

beforeAll(async () => {
  mock = await startMockUpstream();
  open = gateway({});
  keyed = gateway({ geminiApiKey: UPSTREAM_KEY });
  openUrl = await open.listen();
  keyedUrl = await keyed.listen();
});
afterAll(async () => {
  await open.close();
  await keyed.close();
  await mock.close();
});

async function post(base: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(contents('keys')),
  });
  await res.text();
  return res;
}

test('a client key in the header or the query string is never logged', async () => {
  const byQuery = geminiPath('streamGenerateContent', undefined, `?alt=sse&key=${PLANTED_QUERY}`);
  expect((await post(openUrl, byQuery)).headers.get('x-sluice-cache')).toBe('MISS');
  await settle();
  expect((await post(openUrl, byQuery)).headers.get('x-sluice-cache')).toBe('HIT');
  await post(openUrl, geminiPath('generateContent'), { 'x-goog-api-key': PLANTED_HEADER, 'x-mock-gemini-finish': 'SAFETY' });
  await post(openUrl, geminiPath('generateContent'), { 'x-goog-api-key': PLANTED_HEADER, 'x-mock-status': '500' });
  await fetch(`${openUrl}/v1beta/models?key=${PLANTED_QUERY}`).then((r) => r.text());
  await settle();
  expect(lines.length).toBeGreaterThan(3);
  for (const line of lines) {
    expect(line).not.toContain(PLANTED_QUERY);
    expect(line).not.toContain(PLANTED_HEADER);
  }
});

test('a configured Gemini key replaces the client\'s, in the header and in the query string', async () => {
  await post(keyedUrl, geminiPath('generateContent', undefined, `?key=${PLANTED_QUERY}&foo=1`), {
    'x-goog-api-key': PLANTED_HEADER,
  });
  const sent = mock.stats.lastRequest;
  expect(sent?.headers['x-goog-api-key']).toBe(UPSTREAM_KEY);
  expect(sent?.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent?foo=1');
  await fetch(`${keyedUrl}/v1beta/models?key=${PLANTED_QUERY}`).then((r) => r.text());
  expect(mock.stats.lastRequest?.url).toBe('/v1beta/models');
  expect(mock.stats.lastRequest?.headers['x-goog-api-key']).toBe(UPSTREAM_KEY);
  for (const line of lines) expect(line).not.toContain(UPSTREAM_KEY);
});
