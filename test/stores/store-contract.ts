import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry.js';
import type { CacheStore } from '../../src/cache/store.js';
import { everyByteBody, jsonEntry, sseEntry } from './entries.js';

export interface StoreUnderTest {
  store: CacheStore;
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectSameEntry(actual: CacheEntry | undefined, expected: CacheEntry): void {
  expect(actual).toBeDefined();
  expect(actual).toEqual(expected);
  expect(Buffer.from(actual!.body).equals(Buffer.from(expected.body))).toBe(true);
}

/**
 * The behaviour every CacheStore promises, run against each implementation (undici style).
 * Each test uses its own keys, namespaces and tags, so stores may share a backend between tests;
 * purge-all runs last because it wipes everything.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`CacheStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: CacheStore;
    let run = 0;
    // Unique per test so a shared backend never leaks state from one test into the next.
    let scope = '';
    const k = (key: string) => `${scope}:${key}`;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.cleanup();
    });
    beforeEach(() => {
      run += 1;
      scope = `t${run}-${Math.random().toString(36).slice(2, 8)}`;
    });

    it('has a name', () => {
      expect(typeof store.name).toBe('string');
      expect(store.name.length).toBeGreaterThan(0);
    });

    it('round-trips a JSON entry with usage and tags exactly', async () => {
      const entry = jsonEntry({ tags: ['x', 'y z'], namespace: `${scope}-ns` });
      expect(await store.set(k('json'), entry)).toBe(true);
      expectSameEntry(await store.get(k('json')), entry);
    });

    it('round-trips an SSE entry with its typed arrays', async () => {
      const entry = sseEntry({ namespace: `${scope}-ns` });
      expect(await store.set(k('sse'), entry)).toBe(true);
      const got = await store.get(k('sse'));
      expectSameEntry(got, entry);
      expect(got!.eventEnds).toBeInstanceOf(Uint32Array);
      expect(got!.eventTimes).toBeInstanceOf(Uint32Array);
      expect(Array.from(got!.eventTimes!)).toEqual([0, 15, 4_000_000_000]);
      expect(got!.usageEventIndex).toBe(1);
    });

    it('keeps binary bodies with every byte value intact', async () => {
      const entry = sseEntry({ body: everyByteBody(16), eventEnds: Uint32Array.from([4096]) });
      expect(await store.set(k('bin'), entry)).toBe(true);
      const got = await store.get(k('bin'));
      expect(Buffer.from(got!.body).equals(Buffer.from(everyByteBody(16)))).toBe(true);
    });

    it('misses on an unknown key', async () => {
      expect(await store.get(k('never-set'))).toBeUndefined();
    });

    it('stops returning an entry once its TTL has passed', async () => {
      expect(await store.set(k('short'), jsonEntry({ ttlMs: 100 }))).toBe(true);
      expect(await store.get(k('short'))).toBeDefined();
      await sleep(250);
      expect(await store.get(k('short'))).toBeUndefined();
    });

    it('does not store an entry that has already expired', async () => {
      const stale = jsonEntry({ createdAt: Date.now() - 2000, ttlMs: 1000 });
      expect(await store.set(k('stale'), stale)).toBe(false);
      expect(await store.get(k('stale'))).toBeUndefined();
    });

    it('overwrites an existing key', async () => {
      await store.set(k('over'), jsonEntry({ model: 'first' }));
      const second = sseEntry({ model: 'second' });
      expect(await store.set(k('over'), second)).toBe(true);
      expectSameEntry(await store.get(k('over')), second);
    });

    it('purges one key and reports the count', async () => {
      await store.set(k('a'), jsonEntry());
      await store.set(k('b'), jsonEntry());
      expect(await store.purge({ key: k('a') })).toBe(1);
      expect(await store.purge({ key: k('a') })).toBe(0);
      expect(await store.get(k('a'))).toBeUndefined();
      expect(await store.get(k('b'))).toBeDefined();
    });

    it('purges a namespace without touching others', async () => {
      const ns = `${scope}-ns`;
      await store.set(k('n1'), jsonEntry({ namespace: ns }));
      await store.set(k('n2'), sseEntry({ namespace: ns }));
      await store.set(k('other'), jsonEntry({ namespace: `${scope}-other` }));
      expect(await store.purge({ namespace: ns })).toBe(2);
      expect(await store.get(k('n1'))).toBeUndefined();
      expect(await store.get(k('n2'))).toBeUndefined();
      expect(await store.get(k('other'))).toBeDefined();
      expect(await store.purge({ namespace: ns })).toBe(0);
    });

    it('purges a tag without touching untagged entries', async () => {
      const tag = `${scope}-tag`;
      await store.set(k('t1'), jsonEntry({ tags: [tag, 'shared'] }));
      await store.set(k('t2'), sseEntry({ tags: ['shared', tag] }));
      await store.set(k('t3'), jsonEntry({ tags: ['shared'] }));
      expect(await store.purge({ tag })).toBe(2);
      expect(await store.get(k('t1'))).toBeUndefined();
      expect(await store.get(k('t2'))).toBeUndefined();
      expect(await store.get(k('t3'))).toBeDefined();
    });

    it('handles concurrent sets of many keys and of one key', async () => {
      const entries = Array.from({ length: 40 }, (_, i) => jsonEntry({ model: `m${i}` }));
      const stored = await Promise.all(entries.map((entry, i) => store.set(k(`c${i}`), entry)));
      expect(stored.every(Boolean)).toBe(true);
      const got = await Promise.all(entries.map((_, i) => store.get(k(`c${i}`))));
      expect(got.map((entry) => entry?.model)).toEqual(entries.map((entry) => entry.model));

      await Promise.all(entries.map((entry) => store.set(k('same'), entry)));
      const winner = await store.get(k('same'));
      expect(entries.map((entry) => entry.model)).toContain(winner?.model);
    });

    it('purges everything and reports how many entries it removed', async () => {
      await store.purge({ all: true });
      await store.set(k('p1'), jsonEntry());
      await store.set(k('p2'), sseEntry({ namespace: `${scope}-ns` }));
      await store.set(k('p3'), jsonEntry({ tags: ['z'] }));
      expect(await store.purge({ all: true })).toBe(3);
      expect(await store.get(k('p1'))).toBeUndefined();
      expect(await store.get(k('p3'))).toBeUndefined();
      expect(await store.purge({ all: true })).toBe(0);
    });
  });
}
