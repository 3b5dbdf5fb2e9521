import type { TierCoherence } from './coherence.js';
import type { CacheEntry } from './entry.js';
import { type CacheStore, type EntryPage, IncompletePurgeError, type ListQuery, type PurgeFilter, type PurgeOptions } from './store.js';

export type CacheLayer = 'l1' | 'l2';

export interface TieredLookup {
  entry: CacheEntry;
  layer: CacheLayer;
}

export interface TieredStoreOptions {
  /** The fast, local tier (MemoryStore). */
  l1: CacheStore;
  /** The shared tier (RedisStore), normally wrapped in FailOpenStore so it never throws. */
  l2?: CacheStore | undefined;
  /**
   * Keeps L1 coherent with L2 across replicas (RedisCoherence): gates copying L2 hits into L1,
   * and tells the other replicas about purges. Without it L1 is coherent only with itself.
   */
  coherence?: TierCoherence | undefined;
}

/**
 * L1 in front of an optional L2. Reads try L1 then L2, and an L2 hit is copied into L1 (the
 * entry carries createdAt + ttlMs, so the copy expires exactly when the original does).
 *
 * Errors are not swallowed here: wrap L2 in FailOpenStore for fail-open behaviour. A failed
 * L1 backfill does not fail the read, since the L2 hit is already in hand.
 */
export class TieredStore implements CacheStore {
  readonly name: string;
  readonly #l1: CacheStore;
  readonly #l2: CacheStore | undefined;
  readonly #coherence: TierCoherence | undefined;

  constructor(options: TieredStoreOptions) {
    this.#l1 = options.l1;
    this.#l2 = options.l2;
    this.#coherence = options.l2 === undefined ? undefined : options.coherence;
    this.name = this.#l2 === undefined ? this.#l1.name : `${this.#l1.name}+${this.#l2.name}`;
  }

  /**
   * A hit in L1 when L1 answers synchronously (a MemoryStore): the hot path's lookup, with no
   * promise. Undefined when L1 missed or cannot answer synchronously: then `lookup`.
   */
  lookupNow(key: string): TieredLookup | undefined {
    const entry = this.#l1.peek?.(key);
    return entry === undefined ? undefined : { entry, layer: 'l1' };
  }

  /** Like get, and says which tier answered (for the x-sluice-cache / metrics labels). */
  async lookup(key: string): Promise<TieredLookup | undefined> {
    const local = await this.#l1.get(key);
    if (local !== undefined) return { entry: local, layer: 'l1' };
    if (this.#l2 === undefined) return undefined;
    if (this.#coherence === undefined) {
      const shared = await this.#l2.get(key);
      if (shared !== undefined) await this.#l1.set(key, shared).catch(() => false);
      return shared && { entry: shared, layer: 'l2' };
    }
    // The ticket is taken before the read: an invalidation that crosses the reply voids it.
    const ticket = this.#coherence.beginFill(key);
    try {
      const shared = await this.#l2.get(key);
      if (shared === undefined) return undefined;
      if (ticket?.valid) await this.#l1.set(key, shared).catch(() => false);
      return { entry: shared, layer: 'l2' };
    } finally {
      ticket?.done();
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return (await this.lookup(key))?.entry;
  }

  /** Writes both tiers in parallel; true if any stored it. Both writes finish before an error is thrown. */
  async set(key: string, entry: CacheEntry): Promise<boolean> {
    const l2 = this.#l2;
    if (l2 === undefined || this.#coherence === undefined) {
      const results = await Promise.allSettled(this.#stores().map((store) => store.set(key, entry)));
      return anyStored(results);
    }
    // Our own L2 write comes back as an invalidation and drops the L1 copy made here (see
    // RedisCoherence): until then it answers repeats, and the next read after refills L1 from L2.
    // Unlinked, a change made elsewhere may go unheard: our own answer lives in L1 only briefly.
    const life = this.#coherence.ownWriteLifeMs();
    const local = life === undefined ? entry : shortLived(entry, life);
    const results = await Promise.allSettled([
      local === undefined ? Promise.resolve(false) : this.#l1.set(key, local),
      l2.set(key, entry),
    ]);
    return anyStored(results);
  }

  /**
   * Purges both tiers; an entry may live in one or both, so the larger count is the number of
   * entries. An incomplete purge of one tier is rethrown with that larger count.
   */
  async purge(filter: PurgeFilter, options: PurgeOptions = {}): Promise<number> {
    const results = await Promise.allSettled(this.#stores().map((store) => store.purge(filter, options)));
    // The other replicas drop it from their L1 too (entries Redis never had included), even when
    // L2 could not finish: what is gone from L2 must not live on in their memory.
    await this.#coherence?.announcePurge(filter);
    let removed = 0;
    for (const result of results) if (result.status === 'fulfilled') removed = Math.max(removed, result.value);
    for (const result of results) {
      if (result.status !== 'rejected') continue;
      const reason: unknown = result.reason;
      if (reason instanceof IncompletePurgeError) {
        throw new IncompletePurgeError(Math.max(removed, reason.removed), reason.timedOut, reason.message, {
          cause: reason,
        });
      }
      throw reason;
    }
    return removed;
  }

  /** The shared tier when there is one (it holds what every replica stored), else L1. */
  async list(query: ListQuery): Promise<EntryPage> {
    return (this.#l2 ?? this.#l1).list(query);
  }

  /** The store `list` reads. */
  get listedStore(): string {
    return (this.#l2 ?? this.#l1).name;
  }

  async close(): Promise<void> {
    await this.#coherence?.close();
    await Promise.all(this.#stores().map((store) => store.close()));
  }

  #stores(): CacheStore[] {
    return this.#l2 === undefined ? [this.#l1] : [this.#l1, this.#l2];
  }
}

/** The entry with its life cut to `lifeMs` from now (undefined if that leaves nothing). */
function shortLived(entry: CacheEntry, lifeMs: number): CacheEntry | undefined {
  if (lifeMs <= 0) return undefined;
  const ttlMs = Math.min(entry.ttlMs, Date.now() + lifeMs - entry.createdAt);
  return ttlMs > 0 ? { ...entry, ttlMs } : undefined;
}

function anyStored(results: PromiseSettledResult<boolean>[]): boolean {
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return results.some((result) => result.status === 'fulfilled' && result.value);
}
