import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiEmbedder } from '../../src/semantic/openai-embedder.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

/** A slow or failing embeddings server is a dependency on the request path: it must cost a bounded wait, then nothing. */
describe('OpenAiEmbedder as a guarded dependency (mock upstream /v1/embeddings)', () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream();
  });
  afterEach(() => mock.setDefaultKnobs({}));
  afterAll(async () => {
    await mock.close();
  });

  const embedder = (extra: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}) =>
    new OpenAiEmbedder({ url: mock.openaiBaseURL, model: 'text-embedding-3-small', timeoutMs: 2000, failureThreshold: 3, resetAfterMs: 400, ...extra });

  it('a slow embedder times out, then the open breaker answers at once without calling it, and a probe closes it', async () => {
    const states: string[] = [];
    const e = embedder({ timeoutMs: 1000, onBreakerChange: (s) => states.push(s) });
    mock.setDefaultKnobs({ 'x-mock-first-byte-delay-ms': '5000' });
    mock.resetStats();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      await expect(e.embed(`slow ${i}`)).rejects.toMatchObject({ code: 'EMBEDDER_TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(4000);
    }
    expect(e.breakerState).toBe('open');
    const calls = mock.stats.requests;
    const started = Date.now();
    for (let i = 0; i < 20; i++) await expect(e.embed(`skipped ${i}`)).rejects.toMatchObject({ code: 'EMBEDDER_CIRCUIT_OPEN' });
    expect(Date.now() - started).toBeLessThan(500);
    expect(mock.stats.requests).toBe(calls);

    mock.setDefaultKnobs({});
    await new Promise((resolve) => setTimeout(resolve, 500));
    const vector = await e.embed('back again');
    expect(vector).toHaveLength(1536);
    expect(e.breakerState).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('error answers open it too, and a failed probe opens it again', async () => {
    const e = embedder();
    mock.setDefaultKnobs({ 'x-mock-status': '503' });
    for (let i = 0; i < 3; i++) await expect(e.embed(`down ${i}`)).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
    expect(e.breakerState).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(e.embed('probe')).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
    expect(e.breakerState).toBe('open');
    await expect(e.embed('probe again')).rejects.toMatchObject({ code: 'EMBEDDER_CIRCUIT_OPEN' });
  });

  it('identical concurrent texts share one call; a caller that gives up does not cancel it for the others', async () => {
    const e = embedder({ timeoutMs: 2000 });
    mock.setDefaultKnobs({ 'x-mock-first-byte-delay-ms': '200' });
    mock.resetStats();
    const leaving = new AbortController();
    const gaveUp = e.embed('same text', leaving.signal);
    const all = Promise.all(Array.from({ length: 10 }, () => e.embed('same text')));
    leaving.abort();
    await expect(gaveUp).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
    const vectors = await all;
    expect(mock.stats.byPath['/v1/embeddings']).toBe(1);
    expect(new Set(vectors).size).toBe(1);
    await e.embed('same text');
    expect(mock.stats.byPath['/v1/embeddings']).toBe(1);
  });

  it('keeps a bounded memo of recent embeddings', async () => {
    const e = embedder({ cacheEntries: 2 });
    mock.resetStats();
    for (const text of ['one', 'two', 'three', 'three', 'two']) await e.embed(text);
    expect(mock.stats.byPath['/v1/embeddings']).toBe(3);
    await e.embed('one'); // pushed out by 'three'
    expect(mock.stats.byPath['/v1/embeddings']).toBe(4);
  });
});

describe('OpenAiEmbedder dimension check', () => {
  let server: Server;
  let url: string;
  let dims = 3;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ index: 0, embedding: Array.from({ length: dims }, (_, i) => i + 1) }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('the first vector fixes the dimension; a model swapped behind the URL is a bad response, not an index row', async () => {
    dims = 3;
    const e = new OpenAiEmbedder({ url, model: 'm', timeoutMs: 1000 });
    expect(e.identity.dimension).toBeUndefined();
    expect(await e.embed('a')).toHaveLength(3);
    expect(e.identity.dimension).toBe(3);
    dims = 4;
    await expect(e.embed('b')).rejects.toMatchObject({ code: 'EMBEDDER_BAD_RESPONSE' });
  });

  it('a configured dimension is checked from the first call', async () => {
    dims = 3;
    const e = new OpenAiEmbedder({ url, model: 'm', timeoutMs: 1000, dimension: 1536 });
    await expect(e.embed('a')).rejects.toMatchObject({ code: 'EMBEDDER_BAD_RESPONSE', message: expect.stringContaining('1536') });
  });
});
