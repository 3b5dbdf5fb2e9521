import { describe, expect, it } from 'vitest';
import { BUILTIN_PRICES, LibraryError, MemoryStore, ResponseCache } from '../../src/index.js';

const messages = [{ role: 'user', content: 'tell me a story' }];

/** An async generator that counts its runs, so a hit is told from a fresh run. */
function producer(chunks: string[], options: { failAt?: number } = {}) {
  const runs = { count: 0 };
  async function* streamFn() {
    runs.count++;
    for (let i = 0; i < chunks.length; i++) {
      if (i === options.failAt) throw new Error('producer failed');
      yield chunks[i] as string;
    }
  }
  return { runs, streamFn };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('getOrStream', () => {
  it('miss yields live and stores; hit replays the same chunks without running streamFn', async () => {
    const cache = new ResponseCache();
    const { runs, streamFn } = producer(['Once', ' upon', ' a time']);
    const first = cache.getOrStream(messages, streamFn, { model: 'm' });
    expect(await collect(first)).toEqual(['Once', ' upon', ' a time']);
    expect(first.cacheStatus).toBe('MISS');
    const second = cache.getOrStream(messages, streamFn, { model: 'm' });
    expect(await collect(second)).toEqual(['Once', ' upon', ' a time']);
    expect(second.cacheStatus).toBe('HIT');
    expect(runs.count).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('model and params are part of the key', async () => {
    const cache = new ResponseCache();
    const { runs, streamFn } = producer(['a']);
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', params: { temperature: 0 } }));
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', params: { temperature: 1 } }));
    await collect(cache.getOrStream(messages, streamFn, { model: 'n', params: { temperature: 0 } }));
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', params: { temperature: 0 } }));
    expect(runs.count).toBe(3);
  });

  it('a streamFn that throws mid-stream is not stored', async () => {
    const cache = new ResponseCache();
    const failing = producer(['a', 'b', 'c'], { failAt: 2 });
    await expect(collect(cache.getOrStream(messages, failing.streamFn, { model: 'm' }))).rejects.toThrow(
      'producer failed',
    );
    const fine = producer(['x']);
    expect(await collect(cache.getOrStream(messages, fine.streamFn, { model: 'm' }))).toEqual(['x']);
    expect(fine.runs.count).toBe(1);
  });

  it('a consumer that breaks early stores nothing and closes the producer', async () => {
    const cache = new ResponseCache();
    let closed = false;
    async function* streamFn() {
      try {
        yield 'a';
        yield 'b';
        yield 'c';
      } finally {
        closed = true;
      }
    }
    for await (const chunk of cache.getOrStream(messages, streamFn, { model: 'm' })) {
      if (chunk === 'a') break;
    }
    expect(closed).toBe(true);
    const again = cache.getOrStream(messages, streamFn, { model: 'm' });
    await collect(again);
    expect(again.cacheStatus).toBe('MISS');
  });

  it('objects round-trip through a custom serializer; final() joins with chunkJoiner', async () => {
    const cache = new ResponseCache();
    const serialized: string[] = [];
    const serializer = {
      serialize: (chunk: { at: Date; text: string }) => {
        const s = `${chunk.at.toISOString()}|${chunk.text}`;
        serialized.push(s);
        return s;
      },
      deserialize: (s: string) => {
        const [iso = '', text = ''] = s.split('|');
        return { at: new Date(iso), text };
      },
    };
    async function* streamFn() {
      yield { at: new Date(0), text: 'line one\r\n' };
      yield { at: new Date(1000), text: 'two' };
    }
    const options = {
      model: 'm',
      serializer,
      chunkJoiner: (chunks: { text: string }[]) => chunks.map((c) => c.text).join(''),
    };
    expect(await cache.getOrStream(messages, streamFn, options).final()).toBe('line one\r\ntwo');
    const hit = cache.getOrStream(messages, streamFn, options);
    const chunks = await collect(hit);
    expect(hit.cacheStatus).toBe('HIT');
    expect(chunks[1]?.at).toEqual(new Date(1000));
    expect(await hit.final()).toBe('line one\r\ntwo');
    expect(serialized).toHaveLength(2);
  });

  it('a stream is single use', async () => {
    const cache = new ResponseCache();
    const stream = cache.getOrStream(messages, producer(['a']).streamFn, { model: 'm' });
    await collect(stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(LibraryError);
  });

  it('numeric replay pacing spaces the replayed chunks', async () => {
    const cache = new ResponseCache({ replay: 50 });
    const { streamFn } = producer(['a', 'b', 'c', 'd', 'e']);
    await collect(cache.getOrStream(messages, streamFn, { model: 'm' }));
    const started = performance.now();
    await collect(cache.getOrStream(messages, streamFn, { model: 'm' }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    const instant = performance.now();
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', replay: 'instant' }));
    expect(performance.now() - instant).toBeLessThan(40);
  });

  it('the ttl option expires an entry', async () => {
    const cache = new ResponseCache();
    const { runs, streamFn } = producer(['a']);
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', ttl: 1 }));
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', ttl: 1 }));
    expect(runs.count).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    await collect(cache.getOrStream(messages, streamFn, { model: 'm', ttl: 1 }));
    expect(runs.count).toBe(2);
  });

  it('bad per-call options are refused, naming the field', () => {
    const cache = new ResponseCache();
    const { streamFn } = producer(['a']);
    expect(() => cache.getOrStream(messages, streamFn, { model: '' })).toThrow(/model/);
    expect(() => cache.getOrStream(messages, streamFn, { model: 'm', ttl: 1.5 })).toThrow(/ttl/);
    expect(() => cache.getOrStream(messages, streamFn, { model: 'm', tags: ['a b'] })).toThrow(/tags/);
    expect(() => cache.getOrStream(messages, streamFn, { model: 'm', params: { n: 1n } })).toThrow(
      expect.objectContaining({ code: 'LIB_INVALID_ARGUMENT' }),
    );
  });
});

describe('getOrCreate', () => {
  it('stores the result; concurrent identical calls run createFn once', async () => {
    const cache = new ResponseCache();
    let runs = 0;
    const createFn = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { text: 'hello', usage: { prompt_tokens: 10, completion_tokens: 5 } };
    };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => cache.getOrCreate(messages, createFn, { model: 'm' })),
    );
    expect(runs).toBe(1);
    expect(results.every((r) => r.text === 'hello')).toBe(true);
    expect(await cache.getOrCreate(messages, createFn, { model: 'm' })).toEqual(results[0]);
    expect(runs).toBe(1);
  });

  it('a rejected createFn is not stored', async () => {
    const cache = new ResponseCache();
    await expect(
      cache.getOrCreate(messages, () => Promise.reject(new Error('nope')), { model: 'm' }),
    ).rejects.toThrow('nope');
    expect(await cache.getOrCreate(messages, async () => 'ok', { model: 'm' })).toBe('ok');
  });

  it('cacheControl no-store neither reads nor writes', async () => {
    const cache = new ResponseCache();
    let runs = 0;
    const createFn = async () => ++runs;
    await cache.getOrCreate(messages, createFn, { model: 'm', cacheControl: 'no-store' });
    await cache.getOrCreate(messages, createFn, { model: 'm' });
    expect(runs).toBe(2);
    expect(await cache.getOrCreate(messages, createFn, { model: 'm', cacheControl: 'no-store' })).toBe(3);
  });
});

describe('invalidate and stats', () => {
  it('purges by tag, namespace, key and all', async () => {
    const store = new MemoryStore();
    const cache = new ResponseCache({ store });
    const make = (label: string) => async () => label;
    await cache.getOrCreate(['a'], make('a'), { model: 'm', tags: ['red'] });
    await cache.getOrCreate(['b'], make('b'), { model: 'm', tags: ['red', 'blue'] });
    await cache.getOrCreate(['c'], make('c'), { model: 'm', namespace: 'other' });
    await cache.getOrCreate(['d'], make('d'), { model: 'm' });
    expect(await cache.invalidate({ tag: 'red' })).toBe(2);
    expect(await cache.invalidate({ namespace: 'other' })).toBe(1);
    expect(await cache.invalidate({ all: true })).toBe(1);
    let runs = 0;
    await cache.getOrCreate(['d'], async () => ++runs, { model: 'm' });
    expect(runs).toBe(1);
  });

  it('counts tokens and cost saved from recorded usage and the price table', async () => {
    const cache = new ResponseCache({ prices: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } } });
    async function* streamFn() {
      yield { delta: 'hi' };
      yield { delta: '', usage: { prompt_tokens: 1000, completion_tokens: 500 } };
    }
    await collect(cache.getOrStream(messages, streamFn, { model: 'gpt-4o' }));
    await collect(cache.getOrStream(messages, streamFn, { model: 'gpt-4o' }));
    await collect(cache.getOrStream(messages, streamFn, { model: 'gpt-4o' }));
    await cache.getOrCreate(messages, async () => ({ usage: { input_tokens: 7, output_tokens: 3 } }), {
      model: 'no-price',
    });
    await cache.getOrCreate(messages, async () => ({}), { model: 'no-price' });
    const stats = cache.stats();
    expect(stats).toMatchObject({ hits: 3, misses: 2, tokensSaved: { input: 2007, output: 1003 } });
    expect(stats.estimatedCostSaved).toBeCloseTo((2 * (1000 * 2.5 + 500 * 10)) / 1e6, 10);
  });

  it('prices hits from the built-in table without configuration, and says what it could not price', async () => {
    const cache = new ResponseCache();
    const usage = { usage: { input_tokens: 2000, output_tokens: 400 } };
    await cache.getOrCreate(['a'], async () => usage, { model: 'claude-3-5-haiku-20241022' });
    await cache.getOrCreate(['a'], async () => usage, { model: 'claude-3-5-haiku-20241022' });
    await cache.getOrCreate(['b'], async () => usage, { model: 'a-model-from-next-year' });
    await cache.getOrCreate(['b'], async () => usage, { model: 'a-model-from-next-year' });
    await cache.getOrCreate(['c'], async () => ({ text: 'no usage' }), { model: 'gpt-4o' });
    await cache.getOrCreate(['c'], async () => ({ text: 'no usage' }), { model: 'gpt-4o' });
    const price = BUILTIN_PRICES['claude-3-5-haiku'];
    if (!price) throw new Error('claude-3-5-haiku is in the built-in table');
    const stats = cache.stats();
    expect(stats).toMatchObject({ hits: 3, unpriced: 1, usageUnknown: 1, tokensSaved: { input: 4000, output: 800 } });
    expect(stats.estimatedCostSaved).toBeCloseTo((2000 * price.inputPerMTok + 400 * price.outputPerMTok) / 1e6, 12);
  });
});

describe('options', () => {
  it('are validated at construction with errors naming the field', () => {
    expect(() => new ResponseCache({ ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => new ResponseCache({ namespace: 'has space' })).toThrow(/namespace/);
    expect(() => new ResponseCache({ replay: -1 })).toThrow(/replay/);
    expect(() => new ResponseCache({ prices: { m: { inputPerMTok: -1, outputPerMTok: 1 } } })).toThrow(
      /prices\.m\.inputPerMTok/,
    );
    expect(() => new ResponseCache({ store: {} as never })).toThrow(
      expect.objectContaining({ code: 'LIB_INVALID_OPTIONS', message: expect.stringContaining('store') }),
    );
  });

  it('mode off bypasses the cache', async () => {
    const cache = new ResponseCache({ mode: 'off' });
    let runs = 0;
    await cache.getOrCreate(messages, async () => ++runs, { model: 'm' });
    await cache.getOrCreate(messages, async () => ++runs, { model: 'm' });
    expect(runs).toBe(2);
    expect(cache.stats().bypassed).toBe(2);
  });

  it('a store that throws is a miss, never a failed call', async () => {
    const broken = {
      name: 'broken',
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      purge: () => Promise.reject(new Error('down')),
      list: () => Promise.reject(new Error('down')),
      close: () => Promise.resolve(),
    };
    const cache = new ResponseCache({ store: broken });
    expect(await collect(cache.getOrStream(messages, producer(['a']).streamFn, { model: 'm' }))).toEqual([
      'a',
    ]);
    expect(await cache.getOrCreate(messages, async () => 1, { model: 'm' })).toBe(1);
  });
});
