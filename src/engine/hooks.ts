import type { CacheEntry } from '../cache/entry.js';
import type { UpstreamFailure } from '../capture/flight.js';
import type { RequestInfo } from '../protocols/types.js';

/** How a call used the cache, once per call (a follower is `coalesced`, never also a miss). */
export type LookupResult = 'hit' | 'miss' | 'bypass' | 'refresh' | 'coalesced';

/**
 * What the engine reports, for metrics, stats, logs and dashboards. The gateway turns these into
 * Prometheus series and log lines, the library into `stats()`. Every hook is optional and must
 * not throw.
 */
export interface EngineHooks {
  /** `layer`: the tier that answered ('l1', 'l2', a semantic layer's name) or 'none'. */
  onLookup?(layer: string, result: LookupResult, call: HookCall): void;
  /** An entry answered a call (tokens and cost saved). */
  onHit?(entry: CacheEntry, request: RequestInfo, layer: string): void;
  /** An entry write started (the commit): settles when the store is done (a shutdown drain waits for it). */
  onCommit?(write: Promise<boolean>, call: HookCall): void;
  /** How the answer of a forwarded call ended: 'stored', 'skipped_by_store' or 'skipped:<reason>'. */
  onWrite?(result: string, call: HookCall): void;
  onUpstreamHeaders?(seconds: number, call: HookCall): void;
  onUpstreamEnd?(seconds: number, call: HookCall): void;
  onFailure?(failure: UpstreamFailure, call: HookCall): void;
  /** A whole 200 answer the gate refused (worth a warning: the upstream or a protocol rule is off). */
  onNotStored?(reason: string, call: HookCall): void;
}

/** What hooks learn about the call: labels, never the prompt. */
export interface HookCall {
  route: string;
  requestId: string | undefined;
  key: string;
  /** Whether the call looked in the cache (a refresh, a bypass or a write-only call did not). */
  read: boolean;
  /** Whether the call's answer was meant to be stored (not a bypass, not read-only). */
  write: boolean;
}

/** Hooks in order: each hook of each set is called (a gateway's metrics plus a dashboard feed...). */
export function composeHooks(...sets: EngineHooks[]): EngineHooks {
  const all = <K extends keyof EngineHooks>(name: K) => {
    const fns: Array<(...args: unknown[]) => void> = [];
    for (const set of sets) {
      const fn = set[name] as ((...args: unknown[]) => void) | undefined;
      if (fn) fns.push(fn.bind(set));
    }
    if (fns.length === 0) return undefined;
    if (fns.length === 1) return fns[0] as EngineHooks[K];
    return ((...args: unknown[]) => {
      for (const fn of fns) fn(...args);
    }) as EngineHooks[K];
  };
  const out: EngineHooks = {};
  for (const name of [
    'onLookup',
    'onHit',
    'onCommit',
    'onWrite',
    'onUpstreamHeaders',
    'onUpstreamEnd',
    'onFailure',
    'onNotStored',
  ] as const) {
    const fn = all(name);
    if (fn) (out as Record<string, unknown>)[name] = fn;
  }
  return out;
}

/**
 * Plain counters fed by the hooks, so reports (the admin stats, the library's stats()) read
 * numbers the engine counted, not metric series looked up by name.
 */
export class EngineCounters implements EngineHooks {
  readonly writes: Record<string, number> = {};
  readonly tokensSaved = { input: 0, output: 0 };
  /** Per layer, per result: found by the two strings as given (a joined label would be built per lookup). */
  readonly #lookups = new Map<string, Map<LookupResult, number>>();

  /** Lookups counted as `layer:result` (l1:hit, none:miss...). */
  get lookups(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [layer, results] of this.#lookups) for (const [result, n] of results) out[`${layer}:${result}`] = n;
    return out;
  }

  onLookup(layer: string, result: LookupResult): void {
    let results = this.#lookups.get(layer);
    if (!results) {
      results = new Map();
      this.#lookups.set(layer, results);
    }
    results.set(result, (results.get(result) ?? 0) + 1);
  }

  onHit(entry: CacheEntry): void {
    if (!entry.usage) return;
    this.tokensSaved.input += entry.usage.inputTokens;
    this.tokensSaved.output += entry.usage.outputTokens;
  }

  onWrite(result: string): void {
    this.writes[result] = (this.writes[result] ?? 0) + 1;
  }
}
