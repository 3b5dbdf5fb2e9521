import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiEmbedder } from '../../src/semantic/openai-embedder.js';
import { cosine, normalize } from '../../src/semantic/types.js';
import { SemanticIndex } from '../../src/semantic/vector-index.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

const unit = (...values: number[]) => normalize(Float32Array.from(values));
const row = (key: string, vector: Float32Array, extra: object = {}) => ({
  key,
  namespace: 'default',
  tags: [] as string[],
  expiresAt: Date.now() + 60_000,
  veto: 'v',
  vector,
  ...extra,
});

describe('SemanticIndex', () => {
  it('returns the closest rows above the threshold, best first, only within the partition', async () => {
    const index = new SemanticIndex();
    await index.add('p', row('a', unit(1, 0, 0)));
    await index.add('p', row('b', unit(1, 0.2, 0)));
    await index.add('p', row('c', unit(0, 1, 0)));
    await index.add('q', row('d', unit(1, 0, 0)));
    const found = await index.search('p', unit(1, 0.05, 0), 0.9, 4);
    expect(found.map((m) => m.meta.key)).toEqual(['a', 'b']);
    expect(found[0]?.similarity).toBeGreaterThan(found[1]?.similarity ?? 1);
    expect(await index.search('none', unit(1, 0, 0), 0, 4)).toEqual([]);
    expect(await index.search('p', unit(1, 0), 0, 4)).toEqual([]); // other dimension: never compared
  });

  it('drops expired rows, replaces a key, and removes on purge by key, namespace, tag and all', async () => {
    let now = 1_000;
    const index = new SemanticIndex({ now: () => now });
    await index.add('p', row('old', unit(1, 0), { expiresAt: 1_500 }));
    await index.add('p', row('k', unit(0, 1), { expiresAt: 5_000, namespace: 'ns1', tags: ['t1'] }));
    await index.add('p', row('k', unit(1, 1), { expiresAt: 5_000, namespace: 'ns1', tags: ['t1'] }));
    await index.add('p', row('t', unit(1, 0.5), { expiresAt: 5_000, tags: ['t2'] }));
    expect(index.stats().rows).toBe(3);
    now = 2_000;
    expect((await index.search('p', unit(1, 0), 0, 10)).map((m) => m.meta.key)).toEqual(['t', 'k']);
    expect(index.stats().rows).toBe(2);
    expect(await index.purge({ namespace: 'ns1' })).toBe(1);
    expect(await index.purge({ tag: 't2' })).toBe(1);
    await index.add('p', row('x', unit(1, 0), { expiresAt: 5_000 }));
    expect(await index.purge({ key: 'x' })).toBe(1);
    await index.add('p', row('y', unit(1, 0), { expiresAt: 5_000 }));
    expect(await index.purge({ all: true })).toBe(1);
    expect(index.stats()).toEqual({ partitions: 0, rows: 0, bytes: 0 });
  });

  it('is bounded by rows, by rows per partition and by bytes, oldest first', async () => {
    const byRows = new SemanticIndex({ maxRows: 3 });
    for (const k of ['a', 'b', 'c', 'd']) await byRows.add(k === 'd' ? 'q' : 'p', row(k, unit(1, 0)));
    expect(byRows.stats().rows).toBe(3);
    expect((await byRows.search('p', unit(1, 0), 0, 10)).map((m) => m.meta.key).sort()).toEqual(['b', 'c']);

    const perPartition = new SemanticIndex({ maxRowsPerPartition: 2 });
    for (const k of ['a', 'b', 'c']) await perPartition.add('p', row(k, unit(1, 0)));
    await perPartition.add('q', row('z', unit(1, 0)));
    expect((await perPartition.search('p', unit(1, 0), 0, 10)).map((m) => m.meta.key).sort()).toEqual(['b', 'c']);

    const dim = 256;
    const byBytes = new SemanticIndex({ maxBytes: 10 * (dim * 4 + 400) });
    for (let i = 0; i < 50; i++) await byBytes.add('p', row(`k${i}`, normalize(new Float32Array(dim).fill(1))));
    expect(byBytes.stats().bytes).toBeLessThanOrEqual(10 * (dim * 4 + 400));
    expect(byBytes.stats().rows).toBeLessThan(40);
    const left = await byBytes.search('p', normalize(new Float32Array(dim).fill(1)), 0.99, 100);
    expect(left.map((m) => m.meta.key)).toContain('k49');
    expect(left.map((m) => m.meta.key)).not.toContain('k0');
  });

  it('keeps every row findable through many swap-removals', async () => {
    const index = new SemanticIndex();
    const vectors = new Map<string, Float32Array>();
    for (let i = 0; i < 200; i++) {
      const v = normalize(Float32Array.from({ length: 16 }, (_, j) => Math.sin(i * 7 + j * 3)));
      vectors.set(`k${i}`, v);
      await index.add('p', row(`k${i}`, v));
    }
    for (let i = 0; i < 200; i += 3) await index.remove(`k${i}`);
    for (const [key, v] of vectors) {
      // int8 vectors: a near-twin may rank within the quantization error, and these sines repeat (k11, k125 and k160 nearly coincide): look at the top 10.
      const found = (await index.search('p', v, 0.999, 10)).map((m) => m.meta.key);
      const removed = Number(key.slice(1)) % 3 === 0;
      if (removed) expect(found).not.toContain(key);
      else expect(found).toContain(key);
    }
  });
});

describe('OpenAiEmbedder against the mock upstream', () => {
  let mock: MockUpstream;
  let hanging: Server;
  let hangingUrl: string;
  beforeAll(async () => {
    mock = await startMockUpstream();
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await mock.close();
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it('posts to {url}/embeddings with the bearer key and caches recent texts', async () => {
    const embedder = new OpenAiEmbedder({ url: mock.openaiBaseURL, model: 'text-embedding-3-small', apiKey: 'sk-emb', timeoutMs: 1000 });
    mock.resetStats();
    const a = await embedder.embed('Describe how photosynthesis works');
    expect(mock.stats.lastRequest?.path).toBe('/v1/embeddings');
    expect(mock.stats.lastRequest?.headers.authorization).toBe('Bearer sk-emb');
    expect(a).toHaveLength(1536);
    await embedder.embed('Describe how photosynthesis works');
    expect(mock.stats.requests).toBe(1);
    // The mock's vectors bring paraphrases close and keep unrelated texts apart.
    const b = await embedder.embed('Please explain how photosynthesis works');
    const c = await embedder.embed('Write a limerick about a cat');
    const d = await embedder.embed('Explain how photosynthesis does not work');
    expect(cosine(a, b)).toBeGreaterThan(0.99);
    expect(Math.abs(cosine(a, c))).toBeLessThan(0.2);
    expect(cosine(a, d)).toBeLessThan(0.95);
  });

  it('fails with typed errors: timeout, refused connection, error status', async () => {
    const slow = new OpenAiEmbedder({ url: hangingUrl, model: 'm', timeoutMs: 100 });
    const started = Date.now();
    await expect(slow.embed('x')).rejects.toMatchObject({ code: 'EMBEDDER_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1000);
    const refused = new OpenAiEmbedder({ url: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 500 });
    await expect(refused.embed('x')).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
    const missingModel = new OpenAiEmbedder({ url: mock.openaiBaseURL, model: '', timeoutMs: 500 });
    await expect(missingModel.embed('x')).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
  });
});
