import type { CacheEntry } from '../cache/entry.js';
import type { CacheStore } from '../cache/store.js';
import type { Flight, FlightRegistry } from '../capture/flight.js';
import type { RequestInfo } from '../protocols/types.js';
import type { SemanticLayer } from '../semantic/layer.js';
import type { ResolvedOptions } from './options.js';
import type { StatsCounter } from './stats.js';

/** The request that started a flight, and the write its answer triggers: joiners need both. */
export interface FlightLeader {
  request: RequestInfo;
  afterWrite: () => Promise<unknown>;
}

/**
 * What ResponseCache shares with its caching fetches: one store, one set of counters, one
 * registry of calls in flight. Reads and writes never throw (DESIGN.md rule 5): a failing store is a miss.
 */
export interface CacheCore {
  readonly store: CacheStore;
  readonly options: ResolvedOptions;
  readonly stats: StatsCounter;
  readonly flights: FlightRegistry;
  readonly leaders: WeakMap<Flight, FlightLeader>;
  /** Asked after every exact miss; does nothing unless `semantic.enabled`. */
  readonly semantic: SemanticLayer;
  safeGet(key: string): Promise<CacheEntry | undefined>;
  safeSet(key: string, entry: CacheEntry): Promise<boolean>;
}
