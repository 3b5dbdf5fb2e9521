import type { CacheEntry } from './entry.js';
import type { CacheStore, EntryPage, ListQuery, PurgeFilter } from './store.js';

/**
 * The store of a disabled cache: always a miss, never stores. Using it instead of
 * `if (cache)` branches keeps one code path for cache on and off.
 */
export class NullStore implements CacheStore {
  readonly name = 'null';

  async get(_key: string): Promise<CacheEntry | undefined> {
    return undefined;
  }

  async set(_key: string, _entry: CacheEntry): Promise<boolean> {
    return false;
  }

  async purge(_filter: PurgeFilter): Promise<number> {
    return 0;
  }

  async list(_query: ListQuery): Promise<EntryPage> {
    return { entries: [] };
  }

  async close(): Promise<void> {}
}
