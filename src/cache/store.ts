import { codedError } from '../errors.js';
import type { CacheEntry, EntryMeta } from './entry.js';

/** What to purge. Exactly one field is set. */
export type PurgeFilter = { key: string } | { namespace: string } | { tag: string } | { all: true };

/** How long a purge may run; it stops between batches once past the deadline. */
export interface PurgeOptions {
  /** Date.now() past which no new batch is started. */
  deadline?: number | undefined;
}

/** Which entries to list. Filters combine (all must match); `cursor` continues a previous page. */
export interface ListQuery {
  namespace?: string | undefined;
  tag?: string | undefined;
  model?: string | undefined;
  /** Upper bound of entries in the page. */
  limit: number;
  cursor?: string | undefined;
}

export interface EntryPage {
  entries: { key: string; meta: EntryMeta }[];
  /** Pass back to get the next page; absent when the listing is complete. A page may hold fewer than `limit`. */
  cursor?: string | undefined;
}

/**
 * A cache tier. Stores are small, injected and never singletons. A store may throw; callers
 * (the tiered store / ResponseCache) turn errors into misses. Expired entries are never returned.
 */
export interface CacheStore {
  readonly name: string;
  get(key: string): Promise<CacheEntry | undefined>;
  /**
   * A synchronous get, for a store that holds its entries in process memory (MemoryStore). Such a
   * store cannot stall, so the fail-open wrapper reads it without a timer, and a hit in it is
   * answered without waiting for the event loop. Leave it out for any store that does I/O.
   */
  peek?(key: string): CacheEntry | undefined;
  /** Store with the entry's remaining TTL. Entries over the store's size bound are skipped (returns false). */
  set(key: string, entry: CacheEntry): Promise<boolean>;
  /**
   * Number of entries removed. A store that purges in batches stops at `options.deadline` and
   * throws IncompletePurgeError with what it removed so far.
   */
  purge(filter: PurgeFilter, options?: PurgeOptions): Promise<number>;
  /** Metadata of live entries, a page at a time, without reading their bodies where the store can avoid it. */
  list(query: ListQuery): Promise<EntryPage>;
  close(): Promise<void>;
}

export type StoreErrorCode =
  | 'STORE_TIMEOUT'
  | 'STORE_UNAVAILABLE'
  | 'STORE_CORRUPT_ENTRY'
  | 'STORE_FAILED'
  /** A list cursor this store did not hand out. */
  | 'STORE_BAD_CURSOR';

/** A typed error with a stable code; stores raise these and the cache layer counts them. */
export class StoreError extends codedError<StoreErrorCode>('StoreError') {}

/**
 * A purge that stopped before it was done, at its deadline (`timedOut`, code STORE_TIMEOUT) or on
 * an error after some batches (STORE_FAILED): `removed` entries are gone, the rest are not.
 */
export class IncompletePurgeError extends StoreError {
  constructor(
    readonly removed: number,
    readonly timedOut: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(timedOut ? 'STORE_TIMEOUT' : 'STORE_FAILED', message, options);
    this.name = 'IncompletePurgeError';
  }
}

/** Whether an entry's metadata passes every filter of a list query. */
export function metaMatches(meta: EntryMeta, query: ListQuery): boolean {
  return (
    (query.namespace === undefined || meta.namespace === query.namespace) &&
    (query.tag === undefined || meta.tags.includes(query.tag)) &&
    (query.model === undefined || meta.model === query.model)
  );
}
