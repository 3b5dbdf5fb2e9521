import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { type CacheStore, StoreError } from '../../src/cache/store.js';
import { TieredStore } from '../../src/cache/tiered-store.js';
import { startRedis } from '../helpers/redis-server.js';
import { jsonEntry, sseEntry } from './entries.js';
import { describeStoreContract } from './store-contract.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeStoreContract('TieredStore (memory + redis)', async () => {
  const redis = await startRedis();
  const l2 = new RedisStore({ url: redis.url });
  await l2.ready();
  const store = new TieredStore({ l1: new MemoryStore(), l2 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await redis.stop();
    },
  };
});

describeStoreContract('TieredStore (memory only)', async () => {
  const store = new TieredStore({ l1: new MemoryStore() });
  return { store, cleanup: () => store.close() };
});

describe('TieredStore', () => {
  it('answers from L1 first, then L2, and backfills L1 from an L2 hit', async () => {
    const l1 = new MemoryStore();
    const l2 = new MemoryStore();
    const tiered = new TieredStore({ l1, l2 });
    const entry = sseEntry();
    await l2.set('k', entry);
    expect(await tiered.lookup('k')).toEqual({ entry, layer: 'l2' });
    expect(await l1.get('k')).toBe(entry);
    expect((await tiered.lookup('k'))?.layer).toBe('l1');
    expect(await tiered.lookup('missing')).toBeUndefined();
    expect(tiered.name).toBe('memory+memory');
  });

  it('gives the backfilled L1 copy the remaining TTL, not a fresh one', async () => {
    const l1 = new MemoryStore();
    const l2 = new MemoryStore();
    const tiered = new TieredStore({ l1, l2 });
    // Written 700 ms ago with a 1000 ms TTL: 300 ms left.
    const entry = jsonEntry({ createdAt: Date.now() - 700, ttlMs: 1000 });
    await l2.set('k', entry);
    expect((await tiered.lookup('k'))?.layer).toBe('l2');
    expect(await l1.get('k')).toBeDefined();
    await sleep(400);
    expect(await l1.get('k')).toBeUndefined();
    expect(await tiered.get('k')).toBeUndefined();
  });

  it('writes both tiers and reports stored if either took it', async () => {
    const l1 = new MemoryStore({ maxEntryBytes: 1024 });
    const l2 = new MemoryStore();
    const tiered = new TieredStore({ l1, l2 });
    const big = jsonEntry({ body: new Uint8Array(4096) });
    expect(await tiered.set('big', big)).toBe(true);
    expect(await l1.get('big')).toBeUndefined();
    expect(await l2.get('big')).toBe(big);
  });

  it('purges both tiers and returns the larger count', async () => {
    const l1 = new MemoryStore();
    const l2 = new MemoryStore();
    const tiered = new TieredStore({ l1, l2 });
    await tiered.set('a', jsonEntry({ namespace: 'n' }));
    await l2.set('b', jsonEntry({ namespace: 'n' }));
    expect(await tiered.purge({ namespace: 'n' })).toBe(2);
    expect(l1.stats().entries).toBe(0);
    expect(await l2.get('b')).toBeUndefined();
  });

  it('lets L2 errors through (wrap L2 in FailOpenStore) but still writes L1', async () => {
    const failing: CacheStore = {
      name: 'broken',
      get: async () => {
        throw new StoreError('STORE_UNAVAILABLE', 'down');
      },
      set: async (_key: string, _entry: CacheEntry) => {
        throw new StoreError('STORE_UNAVAILABLE', 'down');
      },
      purge: async () => 0,
      list: async () => ({ entries: [] }),
      close: async () => {},
    };
    const l1 = new MemoryStore();
    const tiered = new TieredStore({ l1, l2: failing });
    await expect(tiered.get('k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(tiered.set('k', jsonEntry())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await l1.get('k')).toBeDefined();
  });
});
