import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry.js';
import type { CacheStore, EntryPage, ListQuery } from '../../src/cache/store.js';
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

    /** Every page of a listing, checking that no page exceeds its limit. */
    async function listAll(query: ListQuery): Promise<EntryPage['entries']> {
      const all: EntryPage['entries'] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10_000; pages++) {
        const page = await store.list({ ...query, cursor });
        expect(page.entries.length).toBeLessThanOrEqual(query.limit);
        all.push(...page.entries);
        cursor = page.cursor;
        if (cursor === undefined) return all;
      }
      throw new Error('listing never ended');
    }

    it('lists metadata by namespace, tag and model, a page at a time, never the body', async () => {
      const ns = `${scope}-ns`;
      const tag = `${scope}-tag`;
      await store.set(k('l1'), jsonEntry({ namespace: ns, model: 'm1', tags: [tag] }));
      await store.set(k('l2'), sseEntry({ namespace: ns, model: 'm1' }));
      await store.set(k('l3'), jsonEntry({ namespace: ns, model: 'm2', tags: [tag, 'x'] }));
      await store.set(k('l4'), sseEntry({ namespace: ns, model: 'm2' }));
      await store.set(k('l5'), jsonEntry({ namespace: ns, model: 'm1' }));
      await store.set(k('elsewhere'), jsonEntry({ namespace: `${scope}-other`, model: 'm1', tags: [tag] }));

      const byNamespace = await listAll({ namespace: ns, limit: 2 });
      expect(byNamespace.map((e) => e.key).sort()).toEqual(['l1', 'l2', 'l3', 'l4', 'l5'].map(k));
      const l2 = byNamespace.find((e) => e.key === k('l2'));
      const sse = sseEntry({ namespace: ns, model: 'm1' });
      expect(l2?.meta).toMatchObject({
        format: 'sse',
        namespace: ns,
        model: 'm1',
        bodyBytes: sse.body.byteLength,
        events: sse.eventEnds?.length,
      });
      expect(l2?.meta).not.toHaveProperty('body');

      const m2 = await listAll({ namespace: ns, model: 'm2', limit: 10 });
      expect(m2.map((e) => e.key).sort()).toEqual([k('l3'), k('l4')]);
      const tagged = await listAll({ tag, limit: 1 });
      expect(tagged.map((e) => e.key).sort()).toEqual([k('elsewhere'), k('l1'), k('l3')]);
      const taggedHere = await listAll({ tag, namespace: ns, limit: 10 });
      expect(taggedHere.map((e) => e.key).sort()).toEqual([k('l1'), k('l3')]);
    });

    it('an unfiltered listing pages through every entry once', async () => {
      await store.set(k('u1'), jsonEntry());
      await store.set(k('u2'), sseEntry());
      await store.set(k('u3'), jsonEntry({ namespace: `${scope}-ns` }));
      const all = await listAll({ limit: 3 });
      const mine = all.map((e) => e.key).filter((key) => key.startsWith(`${scope}:`));
      expect(mine.sort()).toEqual([k('u1'), k('u2'), k('u3')]);
    });

    it('does not list expired or purged entries', async () => {
      const ns = `${scope}-ns`;
      await store.set(k('gone'), jsonEntry({ namespace: ns, ttlMs: 100 }));
      await store.set(k('purged'), jsonEntry({ namespace: ns }));
      await store.set(k('kept'), jsonEntry({ namespace: ns }));
      await store.purge({ key: k('purged') });
      await sleep(250);
      expect((await listAll({ namespace: ns, limit: 10 })).map((e) => e.key)).toEqual([k('kept')]);
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
