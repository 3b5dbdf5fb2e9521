import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

/** The headers proxies look at to pass SSE through unbuffered, plus the framing. */
function streamHeaders(res: Response) {
  return {
    contentType: /^text\/event-stream/.test(res.headers.get('content-type') ?? ''),
    cacheControl: res.headers.get('cache-control'),
    accelBuffering: res.headers.get('x-accel-buffering'),
    contentLength: res.headers.get('content-length'),
  };
}

const EXPECTED = { contentType: true, cacheControl: 'no-cache', accelBuffering: 'no', contentLength: null };

async function read(res: Response) {
  const text = await res.text();
  return { outcome: res.headers.get('x-sluice-cache'), headers: streamHeaders(res), text };
}

describe('every stream answer carries the same streaming headers', () => {
  test('live, instant replay, realtime replay and paced replay', async () => {
    const body = chatBody('stream headers', { stream: true });
    const live = await read(await h.post('/v1/chat/completions', body));
    expect(live.outcome).toBe('MISS');
    expect(live.headers).toEqual(EXPECTED);
    await sleep(30);
    for (const replay of ['instant', 'realtime', '200']) {
      const hit = await read(await h.post('/v1/chat/completions', body, { 'x-sluice-replay': replay }));
      expect(hit.outcome).toBe('HIT');
      expect(hit.headers, `replay ${replay}`).toEqual(EXPECTED);
      expect(hit.text).toBe(live.text);
    }
  });

  test('a stream synthesized from a JSON entry', async () => {
    await (await h.post('/v1/chat/completions', chatBody('synthesized headers'))).text();
    await sleep(30);
    const synthesized = await read(
      await h.post('/v1/chat/completions', chatBody('synthesized headers', { stream: true })),
    );
    expect(synthesized.outcome).toBe('HIT');
    expect(synthesized.headers).toEqual(EXPECTED);
  });

  test('a coalesced follower and an Anthropic stream', async () => {
    const body = chatBody('coalesced headers', { stream: true });
    const knobs = { 'x-mock-delay-ms': '20', 'x-mock-words': '10' };
    const [leader, follower] = await Promise.all([
      h.post('/v1/chat/completions', body, knobs).then(read),
      sleep(40).then(() => h.post('/v1/chat/completions', body, knobs).then(read)),
    ]);
    expect(leader.outcome).toBe('MISS');
    expect(follower.outcome).toBe('COALESCED');
    expect(follower.headers).toEqual(EXPECTED);

    const messages = {
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'anthropic stream headers' }],
    };
    const anthropicHeaders = { 'x-api-key': 'sk-ant-test-a', 'anthropic-version': '2023-06-01' };
    const first = await read(await h.post('/v1/messages', messages, anthropicHeaders));
    await sleep(30);
    const second = await read(await h.post('/v1/messages', messages, anthropicHeaders));
    expect([first.outcome, second.outcome]).toEqual(['MISS', 'HIT']);
    expect(first.headers).toEqual(EXPECTED);
    expect(second.headers).toEqual(EXPECTED);
  });

  test('a JSON answer gets no streaming headers and keeps its content-length', async () => {
    const body = chatBody('json has no stream headers');
    await (await h.post('/v1/chat/completions', body)).text();
    await sleep(30);
    const hit = await h.post('/v1/chat/completions', body);
    expect(hit.headers.get('x-sluice-cache')).toBe('HIT');
    expect(hit.headers.get('x-accel-buffering')).toBeNull();
    expect(hit.headers.get('content-length')).toBe(String(Buffer.byteLength(await hit.text())));
  });
});
