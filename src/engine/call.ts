import type { CacheOutcome, OutcomeHeaders } from '../cache/cache-status.js';
import type { CacheMode, RequestControls } from '../cache/controls.js';
import type { CacheEntry } from '../cache/entry.js';
import type { KeyInput } from '../cache/key.js';
import type { RequestIdentity } from '../cache/scope.js';
import type { TieredLookup } from '../cache/tiered-store.js';
import type { FlightHead, FlightListener, UpstreamFailure } from '../capture/flight.js';
import type { CallLimits } from '../defaults.js';
import type { ReplayPacing } from '../options-schema.js';
import type { EngineProtocol, RequestInfo } from '../protocols/types.js';
import type { ReplayPlan } from '../replay/replay.js';
import type { UsageStripper } from '../replay/usage-strip.js';
import type { SemanticQuery } from '../semantic/layer.js';
import type { UpstreamSource } from './drive.js';
import type { OutcomeWriter } from './outcome.js';

/**
 * The contract between the engine (engine.ts) and its adapters (the gateway's protocol routes, the
 * library's calls): the rules it is configured with, the store it reads, the call an adapter hands
 * over after admission, the caller's lifetime, and the port answers go out through.
 */

/** The cache rules every caller is held to (validated once, by the gateway config or the library options). */
export interface EngineConfig {
  mode: CacheMode;
  /** Per-namespace modes over `mode` (cache.namespaceModes); they win over a route's. */
  namespaceModes?: Readonly<Record<string, CacheMode>> | undefined;
  /** Per-route modes over `mode`, by the route's path, `/{upstream}` first for a named upstream's (cache.routeModes). */
  routeModes?: Readonly<Record<string, CacheMode>> | undefined;
  ttlSeconds: number;
  maxTtlSeconds: number;
  maxEntryBytes: number;
  maxFollowers: number;
  completeOnDisconnect: boolean;
  replay: ReplayPacing;
  /** Ask for stream usage on the clients' behalf and hide it from them (gateway cache.requestStreamUsage). */
  requestStreamUsage: boolean;
  limits: CallLimits;
}

/** The store as the engine reaches it: fail-open and bounded (see engine/stores.ts), tier-aware. */
export interface EngineStore {
  /** An L1 hit, synchronously, when L1 can answer so (TieredStore.lookupNow); else undefined. */
  lookupNow?(key: string): TieredLookup | undefined;
  lookup(key: string): Promise<TieredLookup | undefined>;
  set(key: string, entry: CacheEntry): Promise<boolean>;
}

/** An entry a lookup step found. `outcome`/`headers` let a semantic step report itself. */
export interface Found {
  entry: CacheEntry;
  layer: string;
  outcome?: CacheOutcome;
  headers?: Record<string, string>;
}

/**
 * One way to find an entry for a call. The exact lookup is always first; a semantic layer adds
 * a step that runs after an exact miss and must stay inside the call's scope (DESIGN.md rule 4).
 */
export type LookupStep = (key: string, call: EngineCall) => Promise<Found | undefined>;

/** One call, as any adapter hands it over after admission. */
export interface EngineCall {
  protocol: EngineProtocol;
  request: RequestInfo;
  controls: RequestControls;
  /** Where answers come from (the normalized base URL): part of the key. */
  upstream: string;
  /**
   * Whose the answer is and what the request was sent to besides its body (path, query, key
   * headers): computed only when a key is needed (a bypass derives none).
   */
  identity(): RequestIdentity;
  /** The caller's lifetime, from the moment the call arrived (DESIGN.md rule 9). */
  caller: CallerLifetime;
  source: UpstreamSource;
  /** This call's limits when its upstream has its own (a named upstream); absent: the engine's. */
  limits?: CallLimits | undefined;
  /** For hooks and logs: a route or the library call kind. */
  route: string;
  /**
   * The path prefix the route was served under (a named upstream's `/groq`): cache.routeModes
   * reads `/groq/v1/chat/completions` before the bare route.
   */
  routePrefix?: string | undefined;
  requestId?: string | undefined;
  /**
   * The semantic layer's view of this call, prepared from exactly what the key was derived from
   * (the adapter knows its protocol); absent: the call is exact-only.
   */
  semantic?: ((keyInput: KeyInput) => SemanticQuery | undefined) | undefined;
  /** The call's outcome record (engine/outcome.ts): the engine writes how the cache answered it. */
  record?: OutcomeWriter | undefined;
}

/**
 * The caller's lifetime as the engine needs it: whether it has left (read after every await), and
 * a way to hear when it leaves (a flight detaches it). Not an AbortSignal: Node 20 takes several
 * microseconds to make one, and a cache hit or a forward needs none. `lifetimeOf(signal)` makes
 * one from a caller's own signal.
 */
export interface CallerLifetime {
  readonly left: boolean;
  /** Call `listener` once when the caller leaves; returns what undoes the subscription. */
  onLeave(listener: () => void): () => void;
}

export function lifetimeOf(signal: AbortSignal): CallerLifetime {
  return {
    get left() {
      return signal.aborted;
    },
    onLeave(listener) {
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}

/** What a converting follower receives when the shared answer ended. */
export type FollowerAnswer =
  | { kind: 'replay'; plan: ReplayPlan; entry: CacheEntry }
  /** An upstream error answer (non-200), exactly as it came: every follower sees it. */
  | { kind: 'upstream'; head: FlightHead; body: Buffer }
  | { kind: 'failure'; failure: UpstreamFailure };

/** How an adapter sends answers out: to an HTTP response, a fetch Response, an async iterator... */
export interface CallPort {
  /** Answer from an entry. Return false when this caller cannot use it (then it is a miss). */
  replay(plan: ReplayPlan, found: Found, headers: OutcomeHeaders): boolean;
  /**
   * A listener that takes the shared answer's bytes as they come. `stripper`: the answer carries
   * usage this caller did not ask for (requestStreamUsage); pass its bytes through it.
   */
  stream(headers: OutcomeHeaders, stripper?: UsageStripper): FlightListener;
  /** The end of a converting follower (its framing differs from the leader's). */
  answer(answer: FollowerAnswer, headers: OutcomeHeaders): void;
}

export interface CallResult {
  outcome: CacheOutcome | 'ABANDONED';
  key: string;
}
