import { describe, expect, it } from 'vitest';
import { entrySize } from '../../src/cache/entry.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { NullStore } from '../../src/cache/null-store.js';
import { jsonEntry, sseEntry } from './entries.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

const bodyOf = (bytes: number) => new Uint8Array(bytes).fill(0x61);

describe('MemoryStore', () => {
  it('evicts the least recently used entries when the byte budget is full', async () => {
    const one = jsonEntry({ body: bodyOf(1000) });
    const size = entrySize(one);
    const store = new MemoryStore({ maxBytes: size * 3 });
    await store.set('a', one);
    await store.set('b', jsonEntry({ body: bodyOf(1000) }));
    await store.set('c', jsonEntry({ body: bodyOf(1000) }));
    expect(await store.get('a')).toBeDefined(); // a is now the most recently used
    await store.set('d', jsonEntry({ body: bodyOf(1000) }));
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(await store.get('c')).toBeDefined();
    expect(await store.get('d')).toBeDefined();
    expect(store.stats()).toEqual({ entries: 3, bytes: size * 3 });
  });

  it('refuses an entry over maxEntryBytes and drops the older version under that key', async () => {
    const store = new MemoryStore({ maxEntryBytes: 4096 });
    expect(await store.set('k', jsonEntry({ body: bodyOf(100) }))).toBe(true);
    expect(await store.set('k', jsonEntry({ body: bodyOf(5000) }))).toBe(false);
    expect(await store.get('k')).toBeUndefined();
    expect(store.stats()).toEqual({ entries: 0, bytes: 0 });
  });

  it('caps the number of entries when maxEntries is set', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    await store.set('a', jsonEntry());
    await store.set('b', jsonEntry());
    await store.set('c', jsonEntry());
    expect(store.stats().entries).toBe(2);
    expect(await store.get('a')).toBeUndefined();
  });

  it('reports entries and resident bytes', async () => {
    const store = new MemoryStore();
    const a = jsonEntry();
    const b = sseEntry();
    await store.set('a', a);
    await store.set('b', b);
    expect(store.stats()).toEqual({ entries: 2, bytes: entrySize(a) + entrySize(b) });
    await store.purge({ key: 'a' });
    expect(store.stats()).toEqual({ entries: 1, bytes: entrySize(b) });
  });

  it('returns the stored object itself (no copy on the hot path)', async () => {
    const store = new MemoryStore();
    const entry = sseEntry();
    await store.set('k', entry);
    expect(await store.get('k')).toBe(entry);
  });

  it('validates its options with messages naming the field', () => {
    expect(() => new MemoryStore({ maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => new MemoryStore({ maxEntries: -1 })).toThrow(/maxEntries/);
  });
});

describe('NullStore', () => {
  it('never stores and always misses', async () => {
    const store = new NullStore();
    expect(await store.set('k', jsonEntry())).toBe(false);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.purge({ all: true })).toBe(0);
    await store.close();
  });
});
