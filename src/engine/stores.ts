import { FailOpenStore, type FailOpenStoreOptions } from '../cache/fail-open-store.js';
import type { TierCoherence } from '../cache/coherence.js';
import type { CacheStore } from '../cache/store.js';
import { TieredStore } from '../cache/tiered-store.js';

/**
 * DESIGN.md rule 5 for every store, built-in or custom: each tier is reached through one
 * FailOpenStore (a time bound and a circuit breaker), so a store that errors or stalls is a miss
 * or a skipped write, never a failed or hanging call. A store already wrapped is not wrapped twice.
 */
export function failOpen(store: CacheStore, options: FailOpenStoreOptions = {}): FailOpenStore {
  return store instanceof FailOpenStore ? store : new FailOpenStore(store, options);
}

/** The engine's store: L1 (and L2 when given), each tier fail-open. */
export function failOpenTiers(
  l1: CacheStore,
  l2: CacheStore | undefined,
  options: { l1?: FailOpenStoreOptions; l2?: FailOpenStoreOptions; coherence?: TierCoherence } = {},
): TieredStore {
  return new TieredStore({
    l1: failOpen(l1, options.l1),
    l2: l2 && failOpen(l2, options.l2),
    coherence: options.coherence,
  });
}
