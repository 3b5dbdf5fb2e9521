import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, eventually } from './harness.js';

/**
 * The hit path's shortcuts (issue 11) keep every rule: the request memo, the key memo and the
 * credential memo never let two requests that must not share an entry share one, the counters
 * bound once still count every response, and an intended bypass is not reported as a failure.
 */

let mock: MockUpstream;
let gateway: Gateway;
let url: string;
const lines: Array<{ level: number; msg: string; reason?: string }> = [];

beforeAll(async () => {
  mock = await startMockUpstream();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  gateway = createGateway(
    parseConfig({ port: 0, host: '127.0.0.1', logLevel: 'info', upstream: mock.openaiBaseURL, anthropicUpstream: mock.anthropicBaseURL }),
    { logger: createLogger('info', sink) },
  );
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway.close();
  await mock.close();
});

const BODY = JSON.stringify(chatBody('the memo must not cross inputs'));

async function post(path: string, headers: Record<string, string> = {}, body = BODY) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-memo-a', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), key: res.headers.get('x-sluice-key'), text };
}

describe('memos keyed by every key input', () => {
  // Each variant differs from the base in exactly one input besides the (identical) body bytes.
  const variants: Array<{ name: string; path: string; headers: Record<string, string> }> = [
    { name: 'base', path: '/v1/chat/completions', headers: {} },
    { name: 'credential', path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-memo-b' } },
    { name: 'namespace', path: '/v1/chat/completions', headers: { 'x-sluice-namespace': 'other' } },
    { name: 'query', path: '/v1/chat/completions?api-version=2', headers: {} },
    { name: 'key header', path: '/v1/chat/completions', headers: { 'openai-organization': 'org-2' } },
  ];

  test('the same body bytes with any one input changed is a miss, twice over (the memo warm)', async () => {
    const calls = mock.stats.requests;
    const keys = new Map<string, string>();
    for (const round of [1, 2, 3]) {
      for (const { name, path, headers } of variants) {
        const answer = await post(path, headers);
        expect(answer.status, name).toBe(200);
        // First round: each variant is its own miss. Later rounds: each variant hits its own entry.
        expect(answer.cache, `${name}, round ${round}`).toBe(round === 1 ? 'MISS' : 'HIT');
        if (round === 1) keys.set(name, answer.key ?? '');
        else expect(answer.key, name).toBe(keys.get(name));
      }
    }
    expect(new Set(keys.values()).size).toBe(variants.length);
    expect(mock.stats.requests - calls).toBe(variants.length);
  });

  test('a body that differs by one byte is its own request (no memo slot shared)', async () => {
    const first = await post('/v1/chat/completions', {}, JSON.stringify(chatBody('one byte apart: a')));
    const second = await post('/v1/chat/completions', {}, JSON.stringify(chatBody('one byte apart: b')));
    expect(first.cache).toBe('MISS');
    expect(second.cache).toBe('MISS');
    expect(second.key).not.toBe(first.key);
  });

  test('a memoized request still gets its own answer shape (stream and JSON of one prompt)', async () => {
    const json = JSON.stringify(chatBody('shape check'));
    const stream = JSON.stringify(chatBody('shape check', { stream: true }));
    await post('/v1/chat/completions', {}, stream);
    for (let i = 0; i < 3; i++) {
      const asStream = await post('/v1/chat/completions', {}, stream);
      const asJson = await post('/v1/chat/completions', {}, json);
      expect(asStream.text.startsWith('data: ')).toBe(true);
      expect(JSON.parse(asJson.text).object).toBe('chat.completion');
    }
  });
});

test('an intended bypass (cache-control: no-store) logs no "answer not stored" warning', async () => {
  const before = lines.length;
  for (const stream of [false, true]) {
    const answer = await post('/v1/chat/completions', { 'cache-control': 'no-store' }, JSON.stringify(chatBody('bypass', { stream })));
    expect(answer.status).toBe(200);
    expect(answer.cache).toBe('BYPASS');
  }
  await eventually(() => lines.slice(before).filter((l) => l.msg.startsWith('POST')).length >= 2);
  expect(lines.slice(before).filter((l) => l.level >= 40)).toEqual([]);
});

test('every response is counted once, with its outcome (counters bound once)', async () => {
  const body = JSON.stringify(chatBody('counted'));
  await post('/v1/chat/completions', {}, body);
  for (let i = 0; i < 7; i++) await post('/v1/chat/completions', {}, body);
  await post('/v1/chat/completions', { 'cache-control': 'max-age=abc' }, body);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const series = (labels: string) =>
    Number(new RegExp(`^sluice_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
  const hits = series('route="/v1/chat/completions",status="200",cache="HIT"');
  expect(hits).toBeGreaterThanOrEqual(7);
  const again = await post('/v1/chat/completions', {}, body);
  expect(again.cache).toBe('HIT');
  const after = await (await fetch(`${url}/metrics`)).text();
  expect(Number(new RegExp('^sluice_requests_total\\{route="/v1/chat/completions",status="200",cache="HIT"\\} (\\d+)$', 'm').exec(after)?.[1])).toBe(hits + 1);
  expect(series('route="/v1/chat/completions",status="400",cache="NONE"')).toBe(1);
  expect(metrics).toMatch(/^sluice_cache_lookups_total\{layer="l1",result="hit"\} \d+$/m);
});

describe('bytes sent, counted once per answer by source', () => {
  async function bytesSent(): Promise<{ upstream: number; cache: number }> {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const series = (source: string) =>
      Number(new RegExp(`^sluice_bytes_streamed_total\\{source="${source}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    return { upstream: series('upstream'), cache: series('cache') };
  }

  test('a stream miss counts its body as upstream bytes, its hit as cache bytes, each exactly once', async () => {
    const body = JSON.stringify(chatBody('bytes counted once', { stream: true }));
    const before = await bytesSent();
    const miss = await post('/v1/chat/completions', { 'x-mock-words': '40' }, body);
    expect(miss.cache).toBe('MISS');
    await eventually(async () => (await bytesSent()).upstream > before.upstream);
    const afterMiss = await bytesSent();
    expect(afterMiss.upstream - before.upstream).toBe(Buffer.byteLength(miss.text));
    expect(afterMiss.cache).toBe(before.cache);

    const hit = await post('/v1/chat/completions', {}, body);
    expect(hit.cache).toBe('HIT');
    await eventually(async () => (await bytesSent()).cache > afterMiss.cache);
    const afterHit = await bytesSent();
    expect(afterHit.cache - afterMiss.cache).toBe(Buffer.byteLength(hit.text));
    expect(afterHit.upstream).toBe(afterMiss.upstream);
  });

  test("a follower given the leader's upstream error answer counts those bytes too", async () => {
    const body = JSON.stringify(chatBody('bytes of a shared error'));
    const before = await bytesSent();
    // The leader streams; the follower asks for JSON, so it converts and is handed the error whole.
    const leader = post(
      '/v1/chat/completions',
      { 'x-mock-status': '503', 'x-mock-first-byte-delay-ms': '1500' },
      JSON.stringify({ ...JSON.parse(body), stream: true }),
    );
    // Well inside the leader's wait for its first byte, even on a loaded machine.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const follower = await post('/v1/chat/completions', {}, body);
    const led = await leader;
    expect(led.status).toBe(503);
    expect(follower.status).toBe(503);
    expect(follower.cache).toBe('COALESCED');
    const expected = Buffer.byteLength(led.text) + Buffer.byteLength(follower.text);
    await eventually(async () => (await bytesSent()).upstream - before.upstream >= Buffer.byteLength(led.text));
    expect((await bytesSent()).upstream - before.upstream).toBe(expected);
  });
});
