import type { CacheEntry } from './entry.js';

/** What to purge. Exactly one field is set. */
export type PurgeFilter = { key: string } | { namespace: string } | { tag: string } | { all: true };

/**
 * A cache tier. Stores are small, injected and never singletons. A store may throw; callers
 * (the tiered store / ResponseCache) turn errors into misses. Expired entries are never returned.
 */
export interface CacheStore {
  readonly name: string;
  get(key: string): Promise<CacheEntry | undefined>;
  /** Store with the entry's remaining TTL. Entries over the store's size bound are skipped (returns false). */
  set(key: string, entry: CacheEntry): Promise<boolean>;
  /** Number of entries removed. */
  purge(filter: PurgeFilter): Promise<number>;
  close(): Promise<void>;
}

/** A typed error with a stable code; stores raise these and the cache layer counts them. */
export class StoreError extends Error {
  constructor(
    readonly code: 'STORE_TIMEOUT' | 'STORE_UNAVAILABLE' | 'STORE_CORRUPT_ENTRY' | 'STORE_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
