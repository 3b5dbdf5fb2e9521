import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, eventually, type Harness, sleep, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    adminToken: 'admin-token-0123456789',
    cache: { maxEntryBytes: 64 * 1024, ttlSeconds: 300, maxTtlSeconds: 600 },
  });
});
afterAll(async () => h.close());

/** Send a request and read it whole; x-mock-unique makes every upstream answer differ from a replay. */
async function send(path: string, body: object, headers: Record<string, string> = {}) {
  const res = await h.post(path, body, { 'x-mock-unique': '1', ...headers });
  const text = await res.text();
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), headers: res.headers, text };
}

/** Repeat until the entry from the previous request is visible (stores are written after the end). */
async function expectHit(path: string, body: object, headers: Record<string, string> = {}) {
  let last = await send(path, body, headers);
  for (let i = 0; i < 20 && last.cache !== 'HIT'; i++) {
    await sleep(20);
    last = await send(path, body, headers);
  }
  return last;
}

describe('MISS then HIT', () => {
  test('a stream is replayed byte for byte with no second upstream call', async () => {
    const body = chatBody('miss then hit', { stream: true });
    const first = await send('/v1/chat/completions', body);
    expect(first.cache).toBe('MISS');
    expect(first.headers.get('cache-status')).toBe('sluice; fwd=miss');
    await sleep(30);
    const calls = h.mock.stats.requests;
    const second = await send('/v1/chat/completions', body);
    expect(second.cache).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(second.headers.get('cache-status')).toMatch(/^sluice; hit; ttl=\d+$/);
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('a JSON answer is replayed with no second upstream call', async () => {
    const body = chatBody('json miss then hit');
    const first = await send('/v1/chat/completions', body);
    const second = await expectHit('/v1/chat/completions', body);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(second.headers.get('content-length')).toBe(String(Buffer.byteLength(first.text)));
  });

  test('awkward framing (CR line endings, split pieces, keep-alive after [DONE]) is still cached', async () => {
    const body = chatBody('cr framing', { stream: true });
    const headers = { 'x-mock-cr': '1', 'x-mock-split': '5', 'x-mock-keepalive': '1' };
    const first = await send('/v1/chat/completions', body, headers);
    const second = await expectHit('/v1/chat/completions', body, headers);
    expect(second.text).toBe(first.text);
  });
});

describe('what is never stored', () => {
  const neverStored: Array<[string, Record<string, string>, string]> = [
    ['401', { 'x-mock-status': '401' }, '/v1/chat/completions'],
    ['500', { 'x-mock-status': '500' }, '/v1/chat/completions'],
    ['201', { 'x-mock-status': '201' }, '/v1/chat/completions'],
    ['a truncated stream', { 'x-mock-truncate': '3' }, '/v1/chat/completions'],
    ['an error event', { 'x-mock-error-event': '1' }, '/v1/chat/completions'],
    ['[DONE] inside content', { 'x-mock-done-in-content': '1' }, '/v1/chat/completions'],
    ['an error sent as SSE with status 200', { 'x-mock-error-as-sse': '1' }, '/v1/chat/completions'],
    ['an Anthropic stream without message_stop', { 'x-mock-truncate': '2' }, '/v1/messages'],
    ['an Anthropic error event', { 'x-mock-error-event': '1' }, '/v1/messages'],
    ['a Responses stream that failed', { 'x-mock-error-event': '1' }, '/v1/responses'],
    ['an oversized answer (served, not stored)', { 'x-mock-words': '9000' }, '/v1/chat/completions'],
  ];
  for (const [name, knobs, path] of neverStored) {
    test(name, async () => {
      const body =
        path === '/v1/messages'
          ? {
              model: 'claude-sonnet-4-6',
              max_tokens: 50,
              stream: true,
              messages: [{ role: 'user', content: name }],
            }
          : path === '/v1/responses'
            ? { model: 'gpt-4o-mini', stream: true, input: name }
            : chatBody(name, { stream: true });
      const first = await send(path, body, knobs);
      expect(first.cache).toBe('MISS');
      await sleep(40);
      const calls = h.mock.stats.requests;
      // The same request without the fault must go upstream: nothing was stored.
      const second = await send(path, body);
      expect(second.cache).toBe('MISS');
      expect(h.mock.stats.requests).toBe(calls + 1);
    });
  }

  test('a stream the client abandoned', async () => {
    const body = chatBody('abandoned', { stream: true });
    const controller = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-test-tenant-a',
        'x-mock-delay-ms': '20',
      },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    await res.body?.getReader().read();
    controller.abort();
    await sleep(600);
    const second = await send('/v1/chat/completions', body);
    expect(second.cache).toBe('MISS');
  });
});

describe('cross-format replay', () => {
  test('a stream request on a JSON entry gets a synthesized stream the SDK parses to the same answer', async () => {
    const body = chatBody('cross json to stream', { temperature: 0.5 });
    const original = await h.openai().chat.completions.create(body);
    await sleep(30);
    const calls = h.mock.stats.requests;
    const replayed = await h
      .openai()
      .chat.completions.stream({ ...body, stream_options: { include_usage: true } })
      .finalChatCompletion();
    expect(h.mock.stats.requests).toBe(calls);
    expect(replayed.choices[0]?.message.content).toBe(original.choices[0]?.message.content);
    expect(replayed.choices[0]?.finish_reason).toBe(original.choices[0]?.finish_reason);
    expect(replayed.usage).toEqual(original.usage);
  });

  test('a JSON request on a stream entry gets the assembled JSON', async () => {
    const body = chatBody('cross stream to json');
    const streamed = await h
      .openai()
      .chat.completions.stream({ ...body, stream_options: { include_usage: true } })
      .finalChatCompletion();
    await sleep(30);
    const calls = h.mock.stats.requests;
    const { data, response } = await h.openai().chat.completions.create(body).withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('HIT');
    expect(h.mock.stats.requests).toBe(calls);
    expect(data.choices[0]?.message.content).toBe(streamed.choices[0]?.message.content);
    expect(data.usage).toEqual(streamed.usage);
    expect(data.object).toBe('chat.completion');
  });

  test('Anthropic: stream entry answers create(), JSON entry answers stream()', async () => {
    const base = { model: 'claude-sonnet-4-6', max_tokens: 100 };
    const a = { ...base, messages: [{ role: 'user' as const, content: 'anthropic cross 1' }] };
    const streamed = await h.anthropic().messages.stream(a).finalMessage();
    await sleep(30);
    const viaJson = await h.anthropic().messages.create(a).withResponse();
    expect(viaJson.response.headers.get('x-sluice-cache')).toBe('HIT');
    expect(viaJson.data.content).toEqual(streamed.content);
    expect(viaJson.data.usage.output_tokens).toBe(streamed.usage.output_tokens);

    const b = { ...base, messages: [{ role: 'user' as const, content: 'anthropic cross 2' }] };
    const json = await h.anthropic().messages.create(b);
    await sleep(30);
    const replay = h.anthropic().messages.stream(b);
    const message = await replay.finalMessage();
    expect(message.content).toEqual(json.content);
    expect(message.stop_reason).toBe(json.stop_reason);
    expect(message.usage.output_tokens).toBe(json.usage.output_tokens);
  });

  test('Responses: a JSON entry answers the stream helper', async () => {
    const body = { model: 'gpt-4o-mini', input: 'responses cross' };
    const json = await h.openai().responses.create(body);
    await sleep(30);
    const calls = h.mock.stats.requests;
    const streamed = await h.openai().responses.stream(body).finalResponse();
    expect(h.mock.stats.requests).toBe(calls);
    expect(streamed.output_text).toBe(json.output_text);
    expect(streamed.usage).toEqual(json.usage);
  });

  test('an OpenAI stream recorded without usage cannot answer a request that needs usage', async () => {
    const body = chatBody('usage needed');
    await send('/v1/chat/completions', { ...body, stream: true });
    await sleep(30);
    const needsUsage = await send('/v1/chat/completions', {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(needsUsage.cache).toBe('MISS');
    expect(needsUsage.text).toContain('"usage":{');
    // Now the entry has usage: a plain stream request is served from it, without the usage chunk.
    const plain = await expectHit('/v1/chat/completions', { ...body, stream: true });
    expect(plain.text).not.toContain('"prompt_tokens"');
  });
});

describe('tenants', () => {
  test('two API keys never share an entry by default', async () => {
    const body = chatBody('tenant isolation', { stream: true });
    await send('/v1/chat/completions', body, { authorization: 'Bearer sk-tenant-1' });
    await sleep(30);
    const other = await send('/v1/chat/completions', body, { authorization: 'Bearer sk-tenant-2' });
    expect(other.cache).toBe('MISS');
    const same = await send('/v1/chat/completions', body, { authorization: 'Bearer sk-tenant-1' });
    expect(same.cache).toBe('HIT');
  });

  test('shareAcrossCredentials lets them share', async () => {
    const shared = await startHarness({ cache: { shareAcrossCredentials: true } }, h.mock);
    try {
      const body = chatBody('tenant sharing');
      await shared
        .post('/v1/chat/completions', body, { authorization: 'Bearer sk-tenant-1' })
        .then((r) => r.text());
      await sleep(30);
      const other = await shared.post('/v1/chat/completions', body, { authorization: 'Bearer sk-tenant-2' });
      expect(other.headers.get('x-sluice-cache')).toBe('HIT');
    } finally {
      await shared.gateway.close();
    }
  });
});

describe('request controls', () => {
  test('no-cache refreshes the entry (REFRESH), no-store bypasses it (BYPASS)', async () => {
    const body = chatBody('controls');
    const first = await send('/v1/chat/completions', body);
    const refreshed = await send('/v1/chat/completions', body, { 'cache-control': 'no-cache' });
    expect(refreshed.cache).toBe('REFRESH');
    expect(refreshed.headers.get('cache-status')).toBe('sluice; fwd=request');
    expect(refreshed.text).not.toBe(first.text);
    const hit = await expectHit('/v1/chat/completions', body);
    expect(hit.text).toBe(refreshed.text);

    const bypass = await send('/v1/chat/completions', body, { 'cache-control': 'no-store' });
    expect(bypass.cache).toBe('BYPASS');
    expect(bypass.text).not.toBe(refreshed.text);
    await sleep(30);
    expect((await send('/v1/chat/completions', body)).text).toBe(refreshed.text);
  });

  test('max-age rejects an entry older than N seconds', async () => {
    const body = chatBody('max age');
    await send('/v1/chat/completions', body);
    await sleep(1100);
    const young = await send('/v1/chat/completions', body, { 'cache-control': 'max-age=0' });
    expect(young.cache).toBe('MISS');
    expect(young.headers.get('cache-status')).toBe('sluice; fwd=stale');
    expect((await send('/v1/chat/completions', body, { 'cache-control': 'max-age=60' })).cache).toBe('HIT');
  });

  test('x-sluice-ttl expires the entry, and is bounded by maxTtlSeconds', async () => {
    const body = chatBody('ttl');
    await send('/v1/chat/completions', body, { 'x-sluice-ttl': '1' });
    expect((await expectHit('/v1/chat/completions', body)).cache).toBe('HIT');
    await sleep(1100);
    expect((await send('/v1/chat/completions', body)).cache).toBe('MISS');

    const long = chatBody('ttl bounded');
    await send('/v1/chat/completions', long, { 'x-sluice-ttl': '999999' });
    const hit = await expectHit('/v1/chat/completions', long);
    const ttl = Number(/ttl=(\d+)/.exec(hit.headers.get('cache-status') ?? '')?.[1]);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(ttl).toBeGreaterThan(590);
  });

  test('x-sluice-namespace separates entries', async () => {
    const body = chatBody('namespaces');
    await send('/v1/chat/completions', body, { 'x-sluice-namespace': 'team-a' });
    await sleep(30);
    expect((await send('/v1/chat/completions', body, { 'x-sluice-namespace': 'team-b' })).cache).toBe('MISS');
    expect((await send('/v1/chat/completions', body, { 'x-sluice-namespace': 'team-a' })).cache).toBe('HIT');
  });

  test('x-sluice-replay paces a stream hit: realtime follows the recorded gaps, N sets tokens per second', async () => {
    const body = chatBody('paced', { stream: true });
    const original = await send('/v1/chat/completions', body, {
      'x-mock-delay-ms': '15',
      'x-mock-words': '12',
    });
    await sleep(30);
    let at = Date.now();
    const instant = await send('/v1/chat/completions', body);
    const instantMs = Date.now() - at;
    expect(instant.cache).toBe('HIT');
    at = Date.now();
    const realtime = await send('/v1/chat/completions', body, { 'x-sluice-replay': 'realtime' });
    const realtimeMs = Date.now() - at;
    expect(realtime.text).toBe(original.text);
    expect(realtimeMs).toBeGreaterThanOrEqual(12 * 15 * 0.8);
    at = Date.now();
    const paced = await send('/v1/chat/completions', body, { 'x-sluice-replay': '100' });
    const pacedMs = Date.now() - at;
    expect(paced.text).toBe(original.text);
    // ~15 events at 100 tokens/s.
    expect(pacedMs).toBeGreaterThanOrEqual(120);
    expect(instantMs).toBeLessThan(realtimeMs);
  });
});

describe('cache modes', () => {
  test('read-only serves entries but never writes; write-only writes but never reads; off does neither', async () => {
    const body = chatBody('modes');
    const readOnly = await startHarness({ cache: { mode: 'read-only' } }, h.mock);
    const writeOnly = await startHarness({ cache: { mode: 'write-only' } }, h.mock);
    try {
      await readOnly.post('/v1/chat/completions', body).then((r) => r.text());
      await sleep(30);
      expect((await readOnly.post('/v1/chat/completions', body)).headers.get('x-sluice-cache')).toBe('MISS');
      await writeOnly.post('/v1/chat/completions', body).then((r) => r.text());
      await sleep(30);
      expect((await writeOnly.post('/v1/chat/completions', body)).headers.get('x-sluice-cache')).toBe('MISS');
      expect(writeOnly.gateway.context.l1.stats().entries).toBeGreaterThan(0);
      expect(readOnly.gateway.context.l1.stats().entries).toBe(0);
    } finally {
      await readOnly.gateway.close();
      await writeOnly.gateway.close();
    }
  });
});

describe('metrics and admin', () => {
  test('hits, misses and tokens saved are counted', async () => {
    const body = chatBody('metrics');
    await send('/v1/chat/completions', body);
    await expectHit('/v1/chat/completions', body);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/sluice_cache_lookups_total\{layer="l1",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/sluice_cache_lookups_total\{layer="none",result="miss"\} [1-9]/);
    expect(metrics).toMatch(/sluice_cache_tokens_saved_total\{kind="output"\} [1-9]/);
    expect(metrics).toMatch(/sluice_cache_entries [1-9]/);
  });

  test('the admin API needs its token, and inspects and purges by key, namespace, tag and all', async () => {
    const admin = (path: string, init: RequestInit = {}) =>
      fetch(`${h.url}${path}`, {
        ...init,
        headers: { authorization: 'Bearer admin-token-0123456789', 'content-type': 'application/json' },
      });
    expect((await fetch(`${h.url}/admin/stats`)).status).toBe(401);
    expect((await fetch(`${h.url}/admin/stats`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    const stats = (await (await admin('/admin/stats')).json()) as { l1: { entries: number } };
    expect(stats.l1.entries).toBeGreaterThan(0);

    const tagged = chatBody('purge by tag');
    await send('/v1/chat/completions', tagged, { 'x-sluice-tags': 'campaign-7' });
    await expectHit('/v1/chat/completions', tagged);
    const byTag = (await (
      await admin('/admin/purge', { method: 'POST', body: JSON.stringify({ tag: 'campaign-7' }) })
    ).json()) as {
      purged: number;
    };
    expect(byTag.purged).toBe(1);
    expect((await send('/v1/chat/completions', tagged)).cache).toBe('MISS');

    const spaced = chatBody('purge by namespace');
    await send('/v1/chat/completions', spaced, { 'x-sluice-namespace': 'ns-purge' });
    await expectHit('/v1/chat/completions', spaced, { 'x-sluice-namespace': 'ns-purge' });
    await admin('/admin/purge', { method: 'POST', body: JSON.stringify({ namespace: 'ns-purge' }) });
    expect((await send('/v1/chat/completions', spaced, { 'x-sluice-namespace': 'ns-purge' })).cache).toBe(
      'MISS',
    );

    expect((await admin('/admin/purge', { method: 'POST', body: '{"everything":1}' })).status).toBe(400);
    await admin('/admin/purge', { method: 'POST', body: JSON.stringify({ all: true }) });
    await eventually(
      async () =>
        ((await (await admin('/admin/stats')).json()) as { l1: { entries: number } }).l1.entries === 0,
    );
  });
});
