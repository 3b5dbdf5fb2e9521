import { request as httpRequest, type IncomingMessage } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { chatBody, eventually, type Fleet, type Replica, sleep, startFleet } from './harness.js';

/**
 * Issue 23 part 3: identical concurrent requests spread over the fleet make ONE upstream call.
 * Three gateway processes on one real redis-server; the leader's live bytes reach the other
 * replicas through a Redis Stream, and a dead leader or a dead Redis never leaves a client hanging.
 */

const CHAT = '/v1/chat/completions';
let seq = 0;
/** A body no earlier test used (the cache is shared by the whole fleet). */
const fresh = (what: string, extra: Record<string, unknown> = {}) => chatBody(`${what} #${++seq} ${Date.now()}`, { stream: true, ...extra });

interface Read {
  status: number;
  cache: string | null;
  text: string;
  /** The body ended cleanly (false: the connection was cut). */
  complete: boolean;
  ttfbMs: number;
}

/** POST and read the whole body, noting when the first byte came and whether the body was cut. */
async function read(replica: Replica, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Read> {
  const started = performance.now();
  const res = await fetch(`${replica.url}${CHAT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fleet-tenant', ...headers },
    body: JSON.stringify(body),
    signal,
  });
  let text = '';
  let ttfbMs = -1;
  let complete = true;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      if (ttfbMs < 0) ttfbMs = performance.now() - started;
      text += decoder.decode(chunk, { stream: true });
    }
  } catch {
    complete = false;
  }
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), text, complete, ttfbMs };
}

const done = (text: string) => text.trimEnd().endsWith('data: [DONE]');

/** The content the SSE stream carried, joined. */
function content(text: string): string {
  let out = '';
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
    out += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return out;
}

async function metric(replica: Replica, name: string, labels: string): Promise<number> {
  const res = await fetch(`${replica.url}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const calls = (fleet: Fleet) => fleet.mock.stats.byPath[CHAT] ?? 0;

async function savings(replica: Replica): Promise<{ hits: number; tokens: { input: number; output: number } }> {
  const res = await replica.admin('GET', '/admin/stats');
  return ((await res.json()) as { savings: { hits: number; tokens: { input: number; output: number } } }).savings;
}

describe('coalescing across replicas', () => {
  let fleet: Fleet;
  let a: Replica;
  let b: Replica;
  let c: Replica;
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3 });
    [a, b, c] = fleet.replicas as [Replica, Replica, Replica];
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
  });
  beforeEach(() => {
    fleet.mock.resetStats();
  });

  test('300 identical concurrent streams over 3 replicas make exactly one upstream call', async () => {
    const body = fresh('stampede');
    // The head comes late, so every request is in before it: all of them are concurrent.
    const headers = { 'x-mock-first-byte-delay-ms': '1500', 'x-mock-delay-ms': '5' };
    const reads = await Promise.all(
      Array.from({ length: 300 }, (_, i) => read(fleet.replicas[i % 3] as Replica, body, headers)),
    );
    expect(calls(fleet)).toBe(1);
    const first = reads[0] as Read;
    expect(done(first.text)).toBe(true);
    for (const r of reads) {
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      expect(r.text).toBe(first.text);
    }
    const outcomes = reads.map((r) => r.cache);
    expect(outcomes.filter((o) => o === 'MISS')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'COALESCED')).toHaveLength(299);
    // Only the leader's replica wrote the entry: relayed bytes never become an entry elsewhere.
    await sleep(300);
    const stored = await Promise.all(fleet.replicas.map((r) => metric(r, 'sluice_cache_writes_total', 'result="stored"')));
    expect(stored.reduce((x, y) => x + y, 0)).toBe(1);
    // Every replica counted its followers as COALESCED.
    for (const r of fleet.replicas) {
      expect(await metric(r, 'sluice_cache_lookup_outcomes_total', 'outcome="COALESCED"')).toBeGreaterThan(0);
    }
  }, 60_000);

  test('a late follower on another replica gets the earlier bytes, then the live ones, and counts as saved', async () => {
    // With usage in the stream, so the tokens a follower saved are known.
    const body = fresh('late follower', { stream_options: { include_usage: true } });
    const savedBefore = await savings(b);
    const headers = { 'x-mock-delay-ms': '100', 'x-mock-words': '20' };
    const leader = read(a, body, headers);
    await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 5);
    const follower = await read(b, body, headers);
    const lead = await leader;
    expect(calls(fleet)).toBe(1);
    expect(follower.cache).toBe('COALESCED');
    expect(follower.text).toBe(lead.text);
    expect(done(follower.text)).toBe(true);
    // The catch-up came at once, not at the pace of the upstream.
    expect(follower.ttfbMs).toBeLessThan(1000);
    // The dashboard counts the answer B got without an upstream call as saved, tokens included.
    const savedAfter = await savings(b);
    expect(savedAfter.hits - savedBefore.hits).toBe(1);
    expect(savedAfter.tokens.output).toBeGreaterThan(savedBefore.tokens.output);
  }, 30_000);

  test('a follower asking for JSON gets the leader stream converted', async () => {
    // The leader's stream carries usage (not key material), so it can answer a JSON client exactly.
    const body = fresh('json follower', { stream_options: { include_usage: true } });
    const leader = read(a, body, { 'x-mock-delay-ms': '50' });
    await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 2);
    const res = await b.post(CHAT, { ...body, stream: false, stream_options: undefined });
    const json = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    const lead = await leader;
    expect(res.headers.get('x-sluice-cache')).toBe('COALESCED');
    expect(json.choices[0]?.message.content).toBe(content(lead.text));
    expect(calls(fleet)).toBe(1);
  }, 30_000);

  test('an Anthropic stream is shared across replicas and judged by the official SDK', async () => {
    const body = {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: `anthropic fleet #${++seq} ${Date.now()}` }],
    };
    // The SDK sends x-api-key beside the authorization header; every credential present is in the scope.
    const headers = { 'anthropic-version': '2023-06-01', 'x-mock-delay-ms': '40', 'x-api-key': 'sk-fleet-tenant' };
    const leader = a.post('/v1/messages', body, headers).then(async (r) => ({ cache: r.headers.get('x-sluice-cache'), text: await r.text() }));
    await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 3);
    const client = new Anthropic({ baseURL: b.url, apiKey: 'sk-fleet-tenant', defaultHeaders: { authorization: 'Bearer sk-fleet-tenant' } });
    const { data: message, response } = await client.messages
      .create({ ...body, stream: false } as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    const lead = await leader;
    expect(lead.text).toContain('event: message_stop');
    expect(response.headers.get('x-sluice-cache')).toBe('COALESCED');
    const text = message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    let streamed = '';
    for (const line of lead.text.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const event = JSON.parse(line.slice(6)) as { type: string; delta?: { text?: string } };
      if (event.type === 'content_block_delta') streamed += event.delta?.text ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
    expect(text).toBe(streamed);
    expect(fleet.mock.stats.byPath['/v1/messages']).toBe(1);
  }, 30_000);

  test("the leader's slow reader does not slow a fast follower on another replica", async () => {
    const body = fresh('slow reader');
    const headers = { 'x-mock-words': '4000', 'x-mock-delay-ms': '0' };
    // The leader's client reads its headers and then nothing: its socket fills up.
    const paused = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${a.url}${CHAT}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fleet-tenant', ...headers },
      });
      req.on('response', (res) => {
        res.pause();
        resolve(res);
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    try {
      const follower = await read(b, body, headers);
      expect(follower.cache).toBe('COALESCED');
      expect(done(follower.text)).toBe(true);
      expect(calls(fleet)).toBe(1);
      // The upstream was read to its end while the leader's own client still reads nothing.
      expect(fleet.mock.stats.completedStreams).toBe(1);
    } finally {
      paused.destroy();
    }
  }, 30_000);

  test('when every client in the fleet has left, the upstream call is aborted', async () => {
    const body = fresh('everyone leaves');
    const headers = { 'x-mock-delay-ms': '100', 'x-mock-words': '100' };
    const leaderCtl = new AbortController();
    const followerCtl = new AbortController();
    const leader = read(a, body, headers, leaderCtl.signal).catch(() => undefined);
    await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 2);
    const follower = read(b, body, headers, followerCtl.signal).catch(() => undefined);
    await sleep(600);
    // The leader's own client leaves: the follower on B still listens, so the upstream goes on.
    leaderCtl.abort();
    await sleep(1500);
    expect(fleet.mock.stats.abortedStreams).toBe(0);
    followerCtl.abort();
    await eventually('the upstream aborted', async () => fleet.mock.stats.abortedStreams === 1, 8_000);
    await Promise.all([leader, follower]);
    expect(calls(fleet)).toBe(1);
  }, 30_000);

  test('a replica cut off from Redis makes its own upstream call and answers', async () => {
    const body = fresh('cut off');
    const headers = { 'x-mock-delay-ms': '50' };
    const leader = read(b, body, headers);
    await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 2);
    a.redisLink?.cut();
    try {
      const alone = await read(a, body, headers);
      expect(alone.status).toBe(200);
      expect(alone.cache).toBe('MISS');
      expect(done(alone.text)).toBe(true);
    } finally {
      a.redisLink?.restore();
    }
    expect(done((await leader).text)).toBe(true);
    expect(calls(fleet)).toBe(2);
  }, 30_000);

  test('a replica whose Redis stalls answers within its bounds', async () => {
    const body = fresh('stalled');
    const leader = read(b, body, { 'x-mock-delay-ms': '50' });
    await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 2);
    a.redisLink?.stall();
    try {
      const started = Date.now();
      const alone = await read(a, body, { 'x-mock-delay-ms': '0' });
      expect(alone.status).toBe(200);
      expect(done(alone.text)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      a.redisLink?.restore();
    }
    await leader;
  }, 30_000);

  describe('the leader replica is SIGKILLed mid-answer', () => {
    test('followers that sent nothing take over (one new upstream call) and complete', async () => {
      const body = fresh('takeover');
      // The leader's upstream is slow to answer: the followers have sent nothing when it dies.
      const leader = read(a, body, { 'x-mock-first-byte-delay-ms': '20000' }).catch(() => undefined);
      await eventually('the leader upstream call', async () => calls(fleet) === 1);
      const slow = { 'x-mock-delay-ms': '20' };
      const followers = [read(b, body, slow), read(c, body, slow), read(b, body, slow), read(c, body, slow)];
      await sleep(500);
      await a.kill('SIGKILL');
      const results = await Promise.race([
        Promise.all(followers),
        sleep(15_000).then(() => {
          throw new Error('a follower hangs');
        }),
      ]);
      await leader;
      expect(calls(fleet)).toBe(2);
      const first = results[0] as Read;
      expect(done(first.text)).toBe(true);
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.complete).toBe(true);
        expect(r.text).toBe(first.text);
      }
      // One of them became the new leader; the others followed it.
      expect(results.filter((r) => r.cache === 'MISS')).toHaveLength(1);
      expect(results.filter((r) => r.cache === 'COALESCED')).toHaveLength(3);
      await a.restart();
    }, 60_000);

    test('followers that sent bytes are cut, nothing half-done is stored, the next request completes', async () => {
      const body = fresh('leader dies');
      const headers = { 'x-mock-delay-ms': '200', 'x-mock-words': '60' };
      const leader = read(a, body, headers).catch(() => undefined);
      await eventually('the leader streaming', async () => fleet.mock.stats.chunksWritten >= 3);
      const followers = [read(b, body, headers), read(c, body, headers)];
      await sleep(800);
      await a.kill('SIGKILL');
      const results = await Promise.race([
        Promise.all(followers),
        sleep(15_000).then(() => {
          throw new Error('a follower hangs');
        }),
      ]);
      await leader;
      for (const r of results) {
        expect(r.cache).toBe('COALESCED');
        expect(r.text.length).toBeGreaterThan(0);
        // Cut, never made to look complete.
        expect(r.complete).toBe(false);
        expect(done(r.text)).toBe(false);
      }
      await a.restart();
      const next = await read(b, body);
      expect(next.cache).toBe('MISS');
      expect(done(next.text)).toBe(true);
      expect(calls(fleet)).toBe(2);
    }, 60_000);
  });
});
