import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, eventually, type Harness, sleep, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

interface Outcome {
  status: number;
  cache: string | null;
  text: string;
}

function request(harness: Harness, body: object, headers: Record<string, string> = {}): Promise<Outcome> {
  return harness.post('/v1/chat/completions', body, headers).then(async (res) => ({
    status: res.status,
    cache: res.headers.get('x-sluice-cache'),
    text: await res.text(),
  }));
}

describe('identical requests in flight share one upstream call', () => {
  test('20 concurrent streams: one upstream call, identical complete streams, 1 MISS + 19 COALESCED', async () => {
    const body = chatBody('stampede', { stream: true });
    const before = h.mock.stats.requests;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => request(h, body, { 'x-mock-delay-ms': '10', 'x-mock-unique': '1' })),
    );
    expect(h.mock.stats.requests - before).toBe(1);
    const texts = new Set(results.map((r) => r.text));
    expect(texts.size).toBe(1);
    expect(results[0]?.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(results.filter((r) => r.cache === 'MISS')).toHaveLength(1);
    expect(results.filter((r) => r.cache === 'COALESCED')).toHaveLength(19);
  });

  test('a late joiner gets the bytes recorded so far, then the live ones', async () => {
    const body = chatBody('late joiner', { stream: true });
    const knobs = { 'x-mock-delay-ms': '15', 'x-mock-words': '30', 'x-mock-unique': '1' };
    const leader = request(h, body, knobs);
    await sleep(150);
    const follower = await request(h, body, knobs);
    expect(follower.cache).toBe('COALESCED');
    expect(follower.text).toBe((await leader).text);
  });

  test('a JSON follower of a stream gets the assembled JSON', async () => {
    const body = chatBody('json follower');
    const leader = request(
      h,
      { ...body, stream: true, stream_options: { include_usage: true } },
      { 'x-mock-delay-ms': '10' },
    );
    await sleep(50);
    const follower = await request(h, body);
    expect(follower.cache).toBe('COALESCED');
    const json = JSON.parse(follower.text) as {
      object: string;
      choices: Array<{ message: { content: string } }>;
      usage: object;
    };
    expect(json.object).toBe('chat.completion');
    expect(json.usage).toBeTruthy();
    const streamed = (await leader).text
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    expect(json.choices[0]?.message.content).toBe(streamed);
  });

  test('a follower the shared answer cannot serve (needs usage the leader did not ask for) goes upstream itself', async () => {
    const body = chatBody('usage-less leader');
    const before = h.mock.stats.requests;
    const leader = request(h, { ...body, stream: true }, { 'x-mock-delay-ms': '10' });
    await sleep(50);
    const follower = await request(h, body);
    await leader;
    expect(follower.status).toBe(200);
    expect((JSON.parse(follower.text) as { usage?: object }).usage).toBeTruthy();
    expect(h.mock.stats.requests - before).toBe(2);
  });

  test('an upstream error reaches every joiner', async () => {
    const body = chatBody('shared error', { stream: true });
    const results = await Promise.all([
      request(h, body, { 'x-mock-status': '503', 'x-mock-first-byte-delay-ms': '100' }),
      sleep(20).then(() => request(h, body)),
      sleep(30).then(() => request(h, chatBody('shared error'))),
    ]);
    expect(results.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(results.slice(1).map((r) => r.cache)).toEqual(['COALESCED', 'COALESCED']);
    for (const r of results)
      expect((JSON.parse(r.text) as { error: { message: string } }).error.message).toBeTruthy();
  });
});

describe('upstream lifetime', () => {
  test('the upstream is aborted only when no client is left listening', async () => {
    const body = chatBody('two listeners', { stream: true });
    const knobs = { 'x-mock-delay-ms': '20', 'x-mock-words': '40' };
    const aborted = h.mock.stats.abortedStreams;
    const first = new AbortController();
    const res1 = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-tenant-a', ...knobs },
      body: JSON.stringify(body),
      signal: first.signal,
    });
    await res1.body?.getReader().read();
    const second = request(h, body, knobs);
    await sleep(60);
    first.abort();
    const result = await second;
    expect(result.cache).toBe('COALESCED');
    expect(result.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(h.mock.stats.abortedStreams).toBe(aborted);
    // And with the last listener gone, the upstream stops.
    const only = new AbortController();
    const res3 = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-endless': '1', 'x-mock-delay-ms': '5' },
      body: JSON.stringify(chatBody('last listener', { stream: true })),
      signal: only.signal,
    });
    await res3.body?.getReader().read();
    only.abort();
    await eventually(() => h.mock.stats.abortedStreams === aborted + 1);
  });

  test('completeOnDisconnect keeps the upstream going and stores the answer', async () => {
    const keep = await startHarness({ cache: { completeOnDisconnect: true } }, h.mock);
    try {
      const body = chatBody('complete anyway', { stream: true });
      const controller = new AbortController();
      const res = await fetch(`${keep.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-delay-ms': '10', 'x-mock-words': '20' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      await res.body?.getReader().read();
      controller.abort();
      await eventually(async () => keep.gateway.context.l1.stats().entries === 1, 3000);
      const hit = await keep.post('/v1/chat/completions', body, { authorization: '' });
      expect(hit.headers.get('x-sluice-cache')).toBe('HIT');
    } finally {
      await keep.gateway.close();
    }
  });

  test('followers per key are bounded: past the bound a new upstream call starts', async () => {
    const bounded = await startHarness({ cache: { maxFollowers: 2 } }, h.mock);
    try {
      const body = chatBody('bounded followers', { stream: true });
      const before = h.mock.stats.requests;
      const results = await Promise.all(
        Array.from({ length: 6 }, () => request(bounded, body, { 'x-mock-delay-ms': '10' })),
      );
      expect(h.mock.stats.requests - before).toBe(2);
      expect(results.filter((r) => r.cache === 'COALESCED')).toHaveLength(4);
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([200]));
    } finally {
      await bounded.gateway.close();
    }
  });
});
