import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import type { CacheStore, EntryPage } from '../../src/cache/store.js';
import { ResponseCache, SluiceError, UpstreamError } from '../../src/index.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

/** The defects of issue 10 that only the library's getOrStream / getOrCreate can show. */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let mock: MockUpstream;
let counter = 0;
const messages = (label: string) => [{ role: 'user' as const, content: `${label} #${++counter} ${process.pid}` }];

beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => {
  await mock?.close();
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A custom store whose every call hangs forever. */
const stalled: CacheStore = {
  name: 'stalled',
  get: () => new Promise<CacheEntry | undefined>(() => {}),
  set: () => new Promise<boolean>(() => {}),
  purge: () => new Promise<number>(() => {}),
  list: () => new Promise<EntryPage>(() => {}),
  close: async () => {},
};

describe('defect 2: a custom store that stalls', () => {
  it('getOrCreate and getOrStream answer within the store time bound', async () => {
    const cache = new ResponseCache({ store: stalled });
    const started = performance.now();
    expect(await cache.getOrCreate(messages('stall'), async () => 'made', { model: 'm' })).toBe('made');
    async function* chunks() {
      yield 'a';
      yield 'b';
    }
    expect(await collect(cache.getOrStream(messages('stall'), chunks, { model: 'm' }))).toEqual(['a', 'b']);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('defect 3: followers of a failing producer', () => {
  it('a getOrStream follower receives the leader failure; the producer ran once, counted once', async () => {
    const cache = new ResponseCache();
    const msgs = messages('fails');
    let runs = 0;
    async function* failing() {
      runs++;
      yield 'a';
      await sleep(80);
      throw new Error('producer broke');
    }
    const leader = collect(cache.getOrStream(msgs, failing, { model: 'm' }));
    leader.catch(() => undefined);
    await sleep(20);
    const follower = cache.getOrStream(msgs, failing, { model: 'm' });
    const followed = collect(follower);
    followed.catch(() => undefined);
    await expect(leader).rejects.toThrow('producer broke');
    await expect(followed).rejects.toThrow('producer broke');
    expect(follower.cacheStatus).toBe('COALESCED');
    expect(runs).toBe(1);
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 1 });
  });

  it('getOrCreate followers receive the same rejection; createFn ran once', async () => {
    const cache = new ResponseCache();
    let runs = 0;
    const createFn = async () => {
      runs++;
      await sleep(30);
      throw new Error('nope');
    };
    const msgs = messages('same');
    const calls = Array.from({ length: 3 }, () => cache.getOrCreate(msgs, createFn, { model: 'm' }));
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(runs).toBe(1);
  });
});

describe('defect 4: limits hold for library calls', () => {
  it('a stalled producer rejects with a coded error once the idle limit passes', async () => {
    const cache = new ResponseCache({ limits: { idleTimeoutMs: 200 } });
    async function* stalls() {
      yield 'a';
      await new Promise(() => {});
    }
    const started = performance.now();
    const error = await collect(cache.getOrStream(messages('idle'), stalls, { model: 'm' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'idle_timeout', status: 504 });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a producer past maxResponseBytes is cut with a coded error and not stored', async () => {
    const cache = new ResponseCache({ limits: { maxResponseBytes: 1000 } });
    async function* big() {
      for (let i = 0; i < 100; i++) yield 'x'.repeat(100);
    }
    const msgs = messages('big');
    await expect(collect(cache.getOrStream(msgs, big, { model: 'm' }))).rejects.toMatchObject({
      code: 'response_too_large',
    });
  });

  it('options use the gateway names and are validated once, naming the field', () => {
    const cache = new ResponseCache({
      limits: { idleTimeoutMs: 1000, maxStreamDurationMs: 5000, maxResponseBytes: 1 << 20 },
      maxTtlSeconds: 600,
      ttlSeconds: 60,
      maxFollowers: 3,
      completeOnDisconnect: true,
    });
    expect(cache.options).toMatchObject({ maxFollowers: 3, completeOnDisconnect: true, limits: { idleTimeoutMs: 1000 } });
    for (const [options, field] of [
      [{ limits: { idleTimeoutMs: 0 } }, 'limits.idleTimeoutMs'],
      [{ maxFollowers: -1 }, 'maxFollowers'],
      [{ ttlSeconds: 100, maxTtlSeconds: 10 }, 'ttlSeconds'],
    ] as const) {
      let caught: unknown;
      try {
        new ResponseCache(options);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SluiceError);
      expect(caught).toMatchObject({ code: 'LIB_INVALID_OPTIONS', field });
    }
  });

  it('a per-call ttl is bounded by maxTtlSeconds', async () => {
    const store = new MemoryStore();
    let written: CacheEntry | undefined;
    const spy: CacheStore = {
      name: 'spy',
      get: (key) => store.get(key),
      set: (key, entry) => {
        written = entry;
        return store.set(key, entry);
      },
      purge: (filter) => store.purge(filter),
      list: (query) => store.list(query),
      close: () => store.close(),
    };
    const cache = new ResponseCache({ store: spy, ttlSeconds: 10, maxTtlSeconds: 60 });
    await cache.getOrCreate(messages('ttl'), async () => 1, { model: 'm', ttl: 86_400 });
    expect(written?.ttlMs).toBe(60_000);
  });
});

describe('defect 5: getOrStream takes what the SDKs return', () => {
  it('a Promise of a stream (openai create({ stream: true })) is a producer; the producer receives messages', async () => {
    const cache = new ResponseCache();
    const openai = new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
    const msgs = messages('sdk producer');
    let seen: unknown;
    const producer = (m: unknown) => {
      seen = m;
      return openai.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs, stream: true });
    };
    const first = cache.getOrStream(msgs, producer, { model: 'gpt-4o-mini' });
    const live = await collect(first);
    expect(first.cacheStatus).toBe('MISS');
    expect(seen).toBe(msgs);
    expect(live.length).toBeGreaterThan(2);
    const second = cache.getOrStream(msgs, producer, { model: 'gpt-4o-mini' });
    expect(await collect(second)).toEqual(live);
    expect(second.cacheStatus).toBe('HIT');
  });

  it('concurrent identical calls share one producer run, live: chunks so far, then the live ones', async () => {
    const cache = new ResponseCache();
    const msgs = messages('live coalescing');
    let runs = 0;
    async function* slow() {
      runs++;
      for (let i = 0; i < 6; i++) {
        await sleep(25);
        yield { i };
      }
    }
    const leaderChunks: unknown[] = [];
    const leader = (async () => {
      for await (const chunk of cache.getOrStream(msgs, slow, { model: 'm' })) leaderChunks.push(chunk);
    })();
    await sleep(70);
    const follower = cache.getOrStream(msgs, slow, { model: 'm' });
    const followerChunks = await collect(follower);
    await leader;
    expect(runs).toBe(1);
    expect(follower.cacheStatus).toBe('COALESCED');
    expect(followerChunks).toEqual(leaderChunks);
    expect(followerChunks).toHaveLength(6);
  });

  it('a producer that is not async iterable is refused with a coded error naming streamFn', async () => {
    const cache = new ResponseCache();
    const bad = (() => 42) as unknown as () => AsyncIterable<string>;
    await expect(collect(cache.getOrStream(messages('bad'), bad, { model: 'm' }))).rejects.toMatchObject({
      code: 'LIB_INVALID_ARGUMENT',
      field: 'streamFn',
    });
  });
});

describe('library entries', () => {
  it('carry their own protocol name, never a gateway one', async () => {
    const store = new MemoryStore();
    const entries: CacheEntry[] = [];
    const spy: CacheStore = {
      name: 'spy',
      get: (key) => store.get(key),
      set: (key, entry) => {
        entries.push(entry);
        return store.set(key, entry);
      },
      purge: (filter) => store.purge(filter),
      list: (query) => store.list(query),
      close: () => store.close(),
    };
    const cache = new ResponseCache({ store: spy });
    async function* chunks() {
      yield 'x';
    }
    await collect(cache.getOrStream(messages('names'), chunks, { model: 'm' }));
    await cache.getOrCreate(messages('names'), async () => 'v', { model: 'm' });
    expect(entries.map((e) => e.protocol)).toEqual(['sluice.chunks', 'sluice.value']);
  });
});
