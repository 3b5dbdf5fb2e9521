import type { CacheStore } from '../cache/store.js';
import type { Engine } from '../engine/engine.js';
import type { RequestMemo } from '../protocols/request-memo.js';
import type { SemanticLayer } from '../semantic/layer.js';
import type { ResolvedOptions } from './options.js';
import type { StatsCounter } from './stats.js';

/** What a ResponseCache shares with its adapters (caching fetches, getOrStream, getOrCreate). */
export interface LibraryCore {
  readonly engine: Engine;
  /** The store as given (purge and close go to it directly). */
  readonly store: CacheStore;
  readonly options: ResolvedOptions;
  readonly stats: StatsCounter;
  /** Asked after every exact miss (through the engine); does nothing unless `semantic.enabled`. */
  readonly semantic: SemanticLayer;
  /** Request bodies parsed and validated once each (the caching fetches'). */
  readonly requests: RequestMemo;
}
