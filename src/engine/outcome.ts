import type { CacheEntry } from '../cache/entry.js';
import type { Usage } from '../protocols/types.js';
import type { LookupResult } from './hooks.js';

/**
 * One record per request (issue 24): what the request was, how the cache answered it and what was
 * sent, filled as the request goes by its adapter (the gateway's Exchange, a library call) and by
 * the engine, through the writer methods below, and handed, once its answer is over, to a list of
 * sinks (metrics, dashboard tallies, access log, trace span, library stats). Nothing else keeps a
 * copy of a request's outcome: a figure that two sinks show is read from the same field.
 *
 * Who may read it is enforced by lint (eslint.config.js: only sink modules import `Outcome` or
 * `OutcomeSink`); the request path holds an `OutcomeWriter`, which has no getters.
 */

/** What sinks read: the record once the answer is over. Never prompt text, never a credential. */
export interface Outcome {
  readonly requestId: string | undefined;
  readonly method: string;
  /** The path the request was sent to, without its query string (which may carry a key). */
  readonly path: string;
  /** A bounded label for the route: the protocol's route, 'passthrough', or undefined (admin, health...). */
  readonly route: string | undefined;
  /** The protocol's name (openai.chat, anthropic.messages...), for a protocol route. */
  readonly protocol: string | undefined;
  readonly model: string | undefined;
  readonly namespace: string | undefined;
  /** The entry key (a hash); undefined when the call derived none (a bypass, a refusal). */
  readonly key: string | undefined;
  /** x-sluice-cache of the answer (HIT, MISS, ...), NONE for a refusal before a lookup; undefined: not a cache route. */
  readonly cache: string | undefined;
  /** How the call used the cache, for lookup counts; undefined when it never reached the lookup. */
  readonly lookup: LookupResult | undefined;
  /** The tier that answered ('l1', 'l2', 'semantic', a lookup step's name), 'none' otherwise. */
  readonly layer: string | undefined;
  /** Whether the call looked in the cache (the hit ratio's denominator). */
  readonly read: boolean;
  readonly similarity: number | undefined;
  /** Age of the entry that answered, in seconds. */
  readonly ageSeconds: number | undefined;
  /** The entry that answered (a hit): its recorded usage, model and upstream time are what a hit saved. */
  readonly entry: CacheEntry | undefined;
  /** A follower's shared answer, ended whole (COALESCED): what the upstream call it did not make would have cost. */
  readonly shared: CacheEntry | undefined;
  /** The upstream of a protocol route: a named upstream's name, else the default upstream's family. */
  readonly upstream: string | undefined;
  /** The answer's model and usage as recorded (a hit's entry, or the upstream answer the gate judged), if known. */
  readonly answer: { readonly model: string; readonly usage?: Usage | undefined } | undefined;
  readonly status: number;
  /** Response body bytes sent, and where they came from. */
  readonly bytes: number;
  readonly source: 'cache' | 'upstream' | undefined;
  /** Upstream time to headers and to the end of the body (this request's own upstream call). */
  readonly upstreamHeadersMs: number | undefined;
  readonly upstreamMs: number | undefined;
  /** performance.now() at arrival, and the time from arrival to the close of the answer. */
  readonly arrivedAt: number;
  readonly durationMs: number;
  /** Whether the answer was delivered whole (false: the client left or the connection was cut). */
  readonly completed: boolean;
  /** The upstream error code of a failed call (upstream_timeout, upstream_unreachable...). */
  readonly failure: string | undefined;
}

/** What the request path may do with the record: write, never read. */
export interface OutcomeWriter {
  /** The adapter: which route and protocol took the request, and what it asked for. */
  routed(route: string, protocol?: string): void;
  requested(model: string | undefined, namespace: string | undefined): void;
  /** The upstream a protocol route sends to (named, else the family). */
  via(upstream: string): void;
  /** A refusal before any lookup (bad input, a wrong method...): counted with this status. */
  refused(route: string, status: number): void;
  /** The engine: the key and how the lookup went. */
  looked(key: string, layer: string, lookup: LookupResult, read: boolean): void;
  /** The outcome header of the answer (HIT, MISS, COALESCED...). */
  answered(cache: string): void;
  /** An entry answered (an exact or a semantic hit). */
  hit(entry: CacheEntry, ageSeconds: number, similarity?: number): void;
  /** The upstream answer this call received, as the gate read it (a whole answer: model and usage). */
  produced(answer: { model: string; usage?: Usage | undefined }): void;
  /** A follower was answered whole by a shared upstream call (this process's or another replica's). */
  coalesced(entry: CacheEntry): void;
  upstreamHeaders(ms: number): void;
  upstreamEnded(ms: number): void;
  failed(code: string): void;
  /** Body bytes sent to the client. */
  sent(bytes: number, source: 'cache' | 'upstream'): void;
}

export class OutcomeRecord implements Outcome, OutcomeWriter {
  route: string | undefined = undefined;
  protocol: string | undefined = undefined;
  model: string | undefined = undefined;
  namespace: string | undefined = undefined;
  key: string | undefined = undefined;
  cache: string | undefined = undefined;
  lookup: LookupResult | undefined = undefined;
  layer: string | undefined = undefined;
  read = false;
  similarity: number | undefined = undefined;
  ageSeconds: number | undefined = undefined;
  entry: CacheEntry | undefined = undefined;
  shared: CacheEntry | undefined = undefined;
  upstream: string | undefined = undefined;
  answer: { model: string; usage?: Usage | undefined } | undefined = undefined;
  status = 0;
  bytes = 0;
  source: 'cache' | 'upstream' | undefined = undefined;
  upstreamHeadersMs: number | undefined = undefined;
  upstreamMs: number | undefined = undefined;
  durationMs = 0;
  completed = false;
  failure: string | undefined = undefined;
  /** A status to count instead of the one written (set by a refusal). */
  #refusedStatus: number | undefined = undefined;

  constructor(
    readonly requestId: string | undefined,
    readonly method: string,
    readonly path: string,
    readonly arrivedAt: number = performance.now(),
  ) {}

  routed(route: string, protocol?: string): void {
    this.route = route;
    this.protocol = protocol;
  }

  requested(model: string | undefined, namespace: string | undefined): void {
    this.model = model;
    this.namespace = namespace;
  }

  refused(route: string, status: number): void {
    this.route = route;
    this.cache = 'NONE';
    this.#refusedStatus = status;
  }

  via(upstream: string): void {
    this.upstream = upstream;
  }

  looked(key: string, layer: string, lookup: LookupResult, read: boolean): void {
    if (key !== '') this.key = key;
    this.layer = layer;
    this.lookup = lookup;
    this.read = read;
  }

  answered(cache: string): void {
    this.cache = cache;
  }

  hit(entry: CacheEntry, ageSeconds: number, similarity?: number): void {
    this.entry = entry;
    this.answer = entry;
    this.ageSeconds = ageSeconds;
    this.similarity = similarity;
  }

  produced(answer: { model: string; usage?: Usage | undefined }): void {
    this.answer = answer;
  }

  coalesced(entry: CacheEntry): void {
    this.shared = entry;
    this.answer = entry;
  }

  upstreamHeaders(ms: number): void {
    this.upstreamHeadersMs = ms;
  }

  upstreamEnded(ms: number): void {
    this.upstreamMs = ms;
  }

  failed(code: string): void {
    this.failure = code;
  }

  sent(bytes: number, source: 'cache' | 'upstream'): void {
    this.bytes += bytes;
    this.source = source;
  }

  /**
   * The answer is over: its status, whether it was delivered whole and, for an answer no writer
   * counted (an error, a JSON answer of the adapter's own), its body length. Returns the record for the sinks.
   */
  close(status: number, completed: boolean, bodyBytes = 0, now = performance.now()): Outcome {
    this.status = this.#refusedStatus ?? status;
    if (this.bytes === 0) this.bytes = bodyBytes;
    this.completed = completed;
    this.durationMs = now - this.arrivedAt;
    return this;
  }
}

/** A consumer of closed records. Must not throw, and must not keep the record past the call. */
export type OutcomeSink = (outcome: Outcome) => void;

/**
 * The list of sinks, as one function: adding a consumer (the fleet's figures...) is one more entry
 * in the list its owner builds. Undefined entries (a sink turned off) are left out.
 */
export function outcomeSinks(sinks: ReadonlyArray<OutcomeSink | undefined>): OutcomeSink {
  const list = sinks.filter((sink): sink is OutcomeSink => sink !== undefined);
  if (list.length === 1) return list[0] as OutcomeSink;
  return (outcome) => {
    for (const sink of list) sink(outcome);
  };
}
