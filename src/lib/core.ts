import type { CacheStore } from '../cache/store.js';
import type { EngineCall } from '../engine/call.js';
import type { Engine } from '../engine/engine.js';
import { OutcomeRecord } from '../engine/outcome.js';
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

/**
 * Give one library call its outcome record; returns what hands the record to the stats once the
 * call is over (`completed`: its caller got the whole answer). The adapter knows when that is: when
 * the engine answered, for a fetch Response or a value; when the iteration ended, for getOrStream.
 */
export function recordCall(core: LibraryCore, call: EngineCall): (completed: boolean) => void {
  const record = new OutcomeRecord(call.requestId, 'CALL', call.route);
  record.routed(call.route, call.protocol.name);
  record.requested(call.request.model, call.controls.namespace);
  call.record = record;
  return (completed) => core.stats.sink(record.close(200, completed));
}
