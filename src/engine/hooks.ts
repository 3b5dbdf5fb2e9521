import type { UpstreamFailure } from '../capture/flight.js';

/** How a call used the cache, once per call (a follower is `coalesced`, never also a miss). */
export type LookupResult = 'hit' | 'miss' | 'bypass' | 'refresh' | 'coalesced';

/**
 * What the engine reports about a flight and its entry write, beside the call's outcome record
 * (engine/outcome.ts, where how a call was answered goes): a commit to wait for at shutdown, how a
 * write ended, an upstream failure, an answer the gate refused. Every hook is optional and must not
 * throw.
 */
export interface EngineHooks {
  /** An entry write started (the commit): settles when the store is done (a shutdown drain waits for it). */
  onCommit?(write: Promise<boolean>, call: HookCall): void;
  /** How the answer of a forwarded call ended: 'stored', 'skipped_by_store' or 'skipped:<reason>'. */
  onWrite?(result: string, call: HookCall): void;
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
  for (const name of ['onCommit', 'onWrite', 'onFailure', 'onNotStored'] as const) {
    const fn = all(name);
    if (fn) (out as Record<string, unknown>)[name] = fn;
  }
  return out;
}

/** How entry writes ended, by result, for /admin/stats (a write is the flight's, not one request's). */
export class WriteCounts implements EngineHooks {
  readonly writes: Record<string, number> = {};

  onWrite(result: string): void {
    this.writes[result] = (this.writes[result] ?? 0) + 1;
  }
}
