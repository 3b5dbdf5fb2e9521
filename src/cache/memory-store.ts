import { LRUCache } from 'lru-cache';
import { type CacheEntry, entryMeta, entrySize, remainingTtlMs } from './entry.js';
import { type CacheStore, type EntryPage, type ListQuery, metaMatches, type PurgeFilter } from './store.js';
import { DEFAULTS } from '../defaults.js';
import { SluiceError } from '../errors.js';

export interface MemoryStoreOptions {
  /** Budget for the resident size of all entries (entrySize). Default 256 MiB. */
  maxBytes?: number;
  /** Entries larger than this are refused (set returns false). Default 8 MiB. */
  maxEntryBytes?: number;
  /** Optional cap on the number of entries, on top of the byte budget. */
  maxEntries?: number;
}

export interface MemoryStoreStats {
  entries: number;
  bytes: number;
}

const MiB = 1024 * 1024;

/**
 * The L1 tier: an LRU bounded by bytes. It keeps the CacheEntry objects themselves, so a hit
 * costs no decoding; callers must treat returned entries as read-only.
 */
export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  readonly #cache: LRUCache<string, CacheEntry>;
  readonly #maxEntryBytes: number;
  /** The byte budget of the entries. */
  readonly maxBytes: number;

  constructor(options: MemoryStoreOptions = {}) {
    const maxBytes = options.maxBytes ?? 256 * MiB;
    this.maxBytes = maxBytes;
    const maxEntryBytes = Math.min(options.maxEntryBytes ?? DEFAULTS.maxEntryBytes, maxBytes);
    checkPositiveInteger('maxBytes', maxBytes);
    checkPositiveInteger('maxEntryBytes', maxEntryBytes);
    if (options.maxEntries !== undefined) checkPositiveInteger('maxEntries', options.maxEntries);
    this.#maxEntryBytes = maxEntryBytes;
    this.#cache = new LRUCache<string, CacheEntry>({
      maxSize: maxBytes,
      maxEntrySize: maxEntryBytes,
      sizeCalculation: (entry) => entrySize(entry),
      ...(options.maxEntries === undefined ? {} : { max: options.maxEntries }),
    });
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.peek(key);
  }

  /** The entry, synchronously: this store is process memory, so it can answer in the same turn. */
  peek(key: string): CacheEntry | undefined {
    const entry = this.#cache.get(key);
    // lru-cache's clock and Date.now() can disagree by a millisecond; the entry's own
    // expiry is the one users see, so it has the last word.
    if (entry === undefined || remainingTtlMs(entry) <= 0) return undefined;
    return entry;
  }

  async set(key: string, entry: CacheEntry): Promise<boolean> {
    const ttl = remainingTtlMs(entry);
    if (ttl <= 0) return false;
    if (entrySize(entry) > this.#maxEntryBytes) {
      // The previous version under this key is outdated by this answer; do not keep serving it.
      this.#cache.delete(key);
      return false;
    }
    this.#cache.set(key, entry, { ttl: Math.ceil(ttl) });
    return true;
  }

  async purge(filter: PurgeFilter): Promise<number> {
    if ('key' in filter) return this.#cache.delete(filter.key) ? 1 : 0;
    if ('all' in filter) {
      this.#cache.purgeStale();
      const count = this.#cache.size;
      this.#cache.clear();
      return count;
    }
    const matches =
      'namespace' in filter
        ? (entry: CacheEntry) => entry.namespace === filter.namespace
        : (entry: CacheEntry) => entry.tags.includes(filter.tag);
    // Collect first, delete after: deleting while iterating an lru-cache skips entries.
    const doomed: string[] = [];
    for (const [key, entry] of this.#cache.entries()) {
      if (matches(entry)) doomed.push(key);
    }
    for (const key of doomed) this.#cache.delete(key);
    return doomed.length;
  }

  /** Drop one entry at once (an invalidation from another replica). */
  remove(key: string): void {
    this.#cache.delete(key);
  }

  /** Drop every entry at once (the coherence link was lost or re-established). */
  clear(): void {
    this.#cache.clear();
  }

  /** The keys held now, most recently used first (for inspection and tests; entries stay untouched). */
  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /**
   * Keys in sorted order, the cursor being the last key returned: stable while entries come, go
   * and change recency between pages (an LRU's own order does not survive a get).
   */
  async list(query: ListQuery): Promise<EntryPage> {
    const after = query.cursor;
    const keys: string[] = [];
    for (const key of this.#cache.keys()) if (after === undefined || key > after) keys.push(key);
    keys.sort();
    const entries: EntryPage['entries'] = [];
    for (const key of keys) {
      // peek: listing must not change which entry is evicted next.
      const entry = this.#cache.peek(key);
      if (entry === undefined || remainingTtlMs(entry) <= 0) continue;
      const meta = entryMeta(entry);
      if (!metaMatches(meta, query)) continue;
      entries.push({ key, meta });
      if (entries.length === query.limit) {
        return { entries, cursor: key === keys[keys.length - 1] ? undefined : key };
      }
    }
    return { entries };
  }

  stats(): MemoryStoreStats {
    return { entries: this.#cache.size, bytes: this.#cache.calculatedSize };
  }

  async close(): Promise<void> {
    this.#cache.clear();
  }
}

function checkPositiveInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new SluiceError(
      'INVALID_OPTION',
      `MemoryStore option "${field}" must be a positive integer, got ${String(value)}`,
      { field },
    );
  }
}
