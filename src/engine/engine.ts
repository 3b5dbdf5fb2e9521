import {
  COALESCED_HEADERS,
  forwardHeaders,
  hitHeaders,
  keyHeader,
  type OutcomeHeaders,
  semanticHitHeaders,
  shadowHeaders,
} from '../cache/cache-status.js';
import { type CachePlan, type CacheMode, planCache } from '../cache/controls.js';
import { type KeyFields, KeyMemo } from '../cache/key.js';
import { NullStore } from '../cache/null-store.js';
import { TieredStore } from '../cache/tiered-store.js';
import { entryWriter } from '../capture/entry-writer.js';
import { Flight, type FlightListener, type FlightOutcome, FlightRegistry } from '../capture/flight.js';
import { judgeAnswer } from '../capture/gate.js';
import type { JsonObject } from '../protocols/types.js';
import { DerivedForms } from '../replay/derived.js';
import { checkHit, entryServes, planReplay, sameFraming } from '../replay/replay.js';
import { stripperFor, withStreamUsage } from '../replay/usage-strip.js';
import type { SemanticLayer, SemanticQuery } from '../semantic/layer.js';
import { semanticActive } from '../semantic/options.js';
import type { CallPort, CallResult, EngineCall, EngineConfig, EngineStore, FollowerAnswer, Found, LookupStep } from './call.js';
import { driveFlight } from './drive.js';
import { type FleetCoalescer, followLeader } from './fleet.js';
import type { LeaderLease } from './fleet-leader.js';
import type { EngineHooks, HookCall } from './hooks.js';

export interface EngineOptions {
  config: EngineConfig;
  store: EngineStore;
  hooks?: EngineHooks | undefined;
  /** Steps tried after the exact lookup missed, before the semantic layer. */
  lookups?: LookupStep[] | undefined;
  /** Asked after an exact miss (src/semantic/); candidates are recorded once an entry is stored. */
  semantic?: SemanticLayer | undefined;
  /** Budget of the forms derived on hits (replay/derived.ts). Default: a quarter of the default L1, 64 MiB. */
  derivedMaxBytes?: number | undefined;
  /** Coalescing across replicas (engine/fleet.ts); absent: identical calls coalesce in this process only. */
  fleet?: FleetCoalescer | undefined;
}

/** A quarter of the default L1 budget (256 MiB). */
export const DEFAULT_DERIVED_MAX_BYTES = 64 * 1024 * 1024;

/** A call that found its leader dead before any byte runs again at most this many times, then alone. */
const MAX_FLEET_ATTEMPTS = 3;

const OFF_STORE: EngineStore = new TieredStore({ l1: new NullStore() });

/**
 * The one request path for every caller (DESIGN.md section 1): plan → key → lookup → hit check →
 * replay | join | forward, with the limits, the coalescing, the error fan-out and the single
 * commit point. Knows nothing of HTTP servers or SDKs: adapters hand it an EngineCall and a CallPort.
 */
export class Engine {
  readonly flights = new FlightRegistry();
  readonly config: EngineConfig;
  /** JSON assembled from streams, streams synthesized or stripped on hits: bounded by bytes. */
  readonly derived: DerivedForms;
  readonly #store: EngineStore;
  readonly #hooks: EngineHooks;
  readonly #steps: LookupStep[];
  readonly #semantic: SemanticLayer | undefined;
  readonly #keys = new KeyMemo();
  readonly #namespaceModes: ReadonlyMap<string, CacheMode>;
  readonly #routeModes: ReadonlyMap<string, CacheMode>;
  readonly #fleet: FleetCoalescer | undefined;

  constructor(options: EngineOptions) {
    this.config = options.config;
    this.derived = new DerivedForms(options.derivedMaxBytes ?? DEFAULT_DERIVED_MAX_BYTES);
    this.#namespaceModes = new Map(Object.entries(options.config.namespaceModes ?? {}));
    this.#routeModes = new Map(Object.entries(options.config.routeModes ?? {}));
    const everyModeOff = [options.config.mode, ...this.#namespaceModes.values(), ...this.#routeModes.values()].every(
      (mode) => mode === 'off',
    );
    // TensorZero's rule: a disabled cache is a do-nothing store, not branches.
    this.#store = everyModeOff ? OFF_STORE : options.store;
    this.#hooks = options.hooks ?? {};
    this.#fleet = everyModeOff ? undefined : options.fleet;
    this.#fleet?.bind(this.flights);
    this.#steps = [(key) => this.#exact(key), ...(options.lookups ?? [])];
    // A layer that is neither on nor in shadow mode is not asked at all (its key material would be built for nothing).
    this.#semantic = options.semantic && semanticActive(options.semantic.config) ? options.semantic : undefined;
  }

  /** The key a call would use (for callers that report it); '' when the call bypasses the cache. */
  keyOf(call: EngineCall, plan: CachePlan = this.plan(call)): string {
    const fields = this.#keyFields(call, plan);
    return fields ? this.#key(call, fields) : '';
  }

  #keyFields(call: EngineCall, plan: CachePlan): KeyFields | undefined {
    if (plan.forwardOutcome === 'BYPASS') return undefined;
    const { scope, target } = call.identity();
    return { protocol: call.protocol.name, upstream: call.upstream, scope, target, namespace: call.controls.namespace };
  }

  #key(call: EngineCall, fields: KeyFields, material = () => call.protocol.keyMaterial(call.request)): string {
    return this.#keys.derive(call.request, fields, material);
  }

  plan(call: EngineCall): CachePlan {
    return planCache(this.#modeOf(call), call.controls, call.protocol.cacheability(call.request));
  }

  /**
   * The call's namespace's mode, else its route's (under its prefix first: a named upstream's
   * route, then the bare route, which applies under every upstream), else the configured mode.
   */
  #modeOf(call: EngineCall): CacheMode {
    if (this.#namespaceModes.size === 0 && this.#routeModes.size === 0) return this.config.mode;
    return (
      this.#namespaceModes.get(call.controls.namespace) ??
      (call.routePrefix === undefined ? undefined : this.#routeModes.get(`${call.routePrefix}${call.route}`)) ??
      this.#routeModes.get(call.route) ??
      this.config.mode
    );
  }

  run(call: EngineCall, port: CallPort): Promise<CallResult> {
    return this.#run(call, port, 0);
  }

  async #run(call: EngineCall, port: CallPort, attempt: number): Promise<CallResult> {
    const plan = this.plan(call);
    // A bypassed request never touches the cache, so it needs no key.
    const fields = this.#keyFields(call, plan);
    let material: JsonObject | undefined;
    const keyMaterial = () => (material ??= call.protocol.keyMaterial(call.request));
    const key = fields ? this.#key(call, fields, keyMaterial) : '';
    // The semantic view of the call, from exactly what the key was derived from: prepared only
    // once the exact lookup missed (an exact hit never needs its fingerprint or text).
    const semanticQuery = (): SemanticQuery | undefined =>
      fields && this.#semantic && call.semantic ? call.semantic({ ...fields, material: keyMaterial() }) : undefined;
    let query: SemanticQuery | undefined;
    let shadow: number | undefined;
    const { record } = call;
    if (call.caller.left) return { outcome: 'ABANDONED', key };
    let stale = false;
    if (plan.read) {
      // An L1 hit is answered in this turn of the event loop; anything else awaits the lookup steps.
      const found: Found | undefined = this.#store.lookupNow?.(key) ?? (await this.#lookup(key, call));
      // The caller may have left while the store answered: then nobody wants an upstream call.
      if (call.caller.left) return { outcome: 'ABANDONED', key };
      if (found) {
        const { entry } = found;
        const hit = checkHit(entry, call.request, call.controls.maxAgeSeconds);
        if (hit.usable) {
          const replay = planReplay(call.protocol, entry, call.request, call.controls.replay ?? this.config.replay, this.derived);
          // Built in place (no spreads: this runs on every hit), in the order x-sluice-cache, cache-status, age, x-sluice-key.
          const headers = hitHeaders(hit.ageSeconds, hit.ttlSeconds);
          if (key !== '') headers['x-sluice-key'] = key;
          if (found.headers) Object.assign(headers, found.headers);
          if (found.outcome) headers['x-sluice-cache'] = found.outcome;
          if (port.replay(replay, found, headers)) {
            if (record) {
              record.looked(key, found.layer, 'hit', true);
              record.answered(headers['x-sluice-cache']);
              record.hit(entry, hit.ageSeconds);
            }
            return { outcome: headers['x-sluice-cache'], key };
          }
        } else {
          // Too old for this client's max-age, or unable to answer it exactly: fetch a fresh one.
          stale = hit.stale;
        }
      }
      query = semanticQuery();
      if (query && this.#semantic) {
        const outcome = await this.#semantic.lookup(
          query,
          async (k) => (await this.#store.lookup(k))?.entry,
          (entry) => checkHit(entry, call.request, call.controls.maxAgeSeconds),
        );
        if (call.caller.left) return { outcome: 'ABANDONED', key };
        if (outcome.kind === 'shadow') shadow = outcome.similarity;
        if (outcome.kind === 'hit') {
          const { entry } = outcome;
          const replay = planReplay(call.protocol, entry, call.request, call.controls.replay ?? this.config.replay, this.derived);
          // x-sluice-key names the entry that answered, so an operator can inspect or purge it.
          const headers = { ...semanticHitHeaders(outcome.similarity, outcome.ageSeconds), ...keyHeader(outcome.key) };
          if (port.replay(replay, { entry, layer: 'semantic', outcome: 'SEMANTIC-HIT' }, headers)) {
            if (record) {
              // The key of the entry that answered, as x-sluice-key names it.
              record.looked(outcome.key, 'semantic', 'hit', true);
              record.answered('SEMANTIC-HIT');
              record.hit(entry, outcome.ageSeconds, outcome.similarity);
            }
            return { outcome: 'SEMANTIC-HIT', key };
          }
        }
      }
    }
    let lease: LeaderLease | undefined;
    if (plan.coalesce) {
      let flight = this.flights.joinable(key);
      if (!flight && this.#fleet && attempt < MAX_FLEET_ATTEMPTS) {
        const role = await this.#fleet.claim(key);
        if (call.caller.left) return { outcome: 'ABANDONED', key };
        // A local caller that won the claim first is in flight by now.
        flight = this.flights.joinable(key);
        // A leader elsewhere stored the answer after this call looked: look again.
        if (!flight && role.kind === 'stored') return this.#run(call, port, attempt + 1);
        if (!flight && role.kind === 'leader' && role.lease.take()) lease = role.lease;
        if (!flight && role.kind === 'follower') {
          const followed = await followLeader(role.follow, {
            call,
            port,
            config: this.config,
            key,
            read: plan.read,
            join: (relayed) => this.#join(relayed, call, port, plan, key),
          });
          if (followed === 'retry') return this.#run(call, port, attempt + 1);
          if (followed !== 'joinable') return { outcome: followed, key };
          flight = this.flights.joinable(key);
        }
      }
      if (flight) {
        record?.looked(key, 'none', 'coalesced', plan.read);
        record?.answered('COALESCED');
        this.#join(flight, call, port, plan, key);
        return { outcome: 'COALESCED', key };
      }
    }
    const result = plan.read ? 'miss' : plan.forwardOutcome === 'BYPASS' ? 'bypass' : 'refresh';
    record?.looked(key, 'none', result, plan.read);
    record?.answered(plan.forwardOutcome);
    // A call that did not read (a refresh) prepares it now: its stored answer becomes a candidate.
    this.#forward(call, port, plan, key, stale, plan.read ? query : semanticQuery(), shadow, lease);
    return { outcome: plan.forwardOutcome, key };
  }

  async #exact(key: string): Promise<Found | undefined> {
    const found = await this.#store.lookup(key);
    return found && { entry: found.entry, layer: found.layer };
  }

  async #lookup(key: string, call: EngineCall): Promise<Found | undefined> {
    for (const step of this.#steps) {
      const found = await step(key, call);
      if (found || call.caller.left) return found;
    }
    return undefined;
  }

  /** Join an identical call in flight: its bytes as they come, or its converted end. */
  #join(flight: Flight, call: EngineCall, port: CallPort, plan: CachePlan, key: string): void {
    // x-sluice-key on every cacheable answer, so an operator can inspect or purge its entry.
    const headers: OutcomeHeaders = { ...COALESCED_HEADERS, ...keyHeader(key) };
    // A stream follower that did not ask for the usage the leader's call asked for takes the live bytes, stripped.
    const stripper = stripperFor(call.protocol, flight.leader, call.request, this.config.maxEntryBytes);
    const { record } = call;
    if (stripper || sameFraming(flight.leader, call.request)) {
      // The shared answer, as the gate read it, is this follower's (its model and usage), and it
      // saved this caller an upstream call: counted by the sinks once it was delivered whole.
      if (flight.attach(port.stream(headers, stripper), call.caller) && record) {
        flight.onSettled((o) => o.kind === 'ended' && o.verdict.storable && record.coalesced(o.verdict.entry));
      }
      return;
    }
    const converting: FlightListener = {
      raw: false,
      onHead: () => undefined,
      onData: () => undefined,
      onSettled: (outcome) => {
        const answer = this.#followerAnswer(call, outcome);
        if (answer?.kind === 'replay') record?.coalesced(answer.entry);
        if (answer) port.answer(answer, headers);
        // The documented exception to the fan-out: the shared answer cannot serve this follower
        // exactly (it needs usage the leader did not ask for), so it makes its own call. It was
        // counted once, as coalesced, and is not counted again.
        else this.#forward(call, port, { ...plan, coalesce: false }, key, false);
      },
    };
    flight.attach(converting, call.caller);
  }

  /** The leader's end, as a follower with another framing must see it; undefined: not servable. */
  #followerAnswer(call: EngineCall, outcome: FlightOutcome): FollowerAnswer | undefined {
    if (outcome.kind === 'failed') return { kind: 'failure', failure: outcome.failure };
    const { verdict, head, body } = outcome;
    if (verdict.storable) {
      if (!entryServes(verdict.entry, call.request)) return undefined;
      const plan = planReplay(call.protocol, verdict.entry, call.request, 'instant', this.derived);
      return { kind: 'replay', plan, entry: verdict.entry };
    }
    if (head.status !== 200 && body) return { kind: 'upstream', head, body };
    return {
      kind: 'failure',
      failure: {
        code: 'upstream_incomplete',
        status: 502,
        message: `the upstream answer was incomplete (${verdict.reason}); retry the request`,
      },
    };
  }

  /** Go upstream: one flight, recorded, judged at the end, committed through its writer. */
  #forward(
    call: EngineCall,
    port: CallPort,
    plan: CachePlan,
    key: string,
    stale: boolean,
    query?: SemanticQuery,
    shadow?: number,
    lease?: LeaderLease,
  ): void {
    const { config } = this;
    const { protocol, request, controls } = call;
    const labels: HookCall = { route: call.route, requestId: call.requestId, key, read: plan.read, write: plan.write };
    const hooks = this.#hooks;
    const ttlSeconds = Math.min(controls.ttlSeconds ?? config.ttlSeconds, config.maxTtlSeconds);
    const meta = { ttlMs: ttlSeconds * 1000, namespace: controls.namespace, tags: controls.tags };
    // What goes upstream, judged and recorded; the caller may have asked for less (requestStreamUsage).
    const sent = withStreamUsage(protocol, request, config.requestStreamUsage && plan.write);
    const writer = plan.write
      ? entryWriter(this.#store, key, ({ stored, reason }) => {
          hooks.onWrite?.(stored ? 'stored' : reason === 'skipped_by_store' ? reason : `skipped:${reasonCode(reason)}`, labels);
        })
      : undefined;
    const flight = new Flight({
      maxEntryBytes: config.maxEntryBytes,
      maxListeners: config.maxFollowers + 1,
      completeOnDisconnect: config.completeOnDisconnect && plan.write,
      leader: sent,
      // Nothing to store and nobody to share with: pass the bytes through without recording them.
      judge:
        plan.write || plan.coalesce
          ? (head, recorder, upstreamMs) => judgeAnswer(protocol, sent, head, recorder, { ...meta, upstreamMs })
          : undefined,
      writer,
    });
    if (plan.coalesce) this.flights.register(key, flight);
    const { record } = call;
    flight.onSettled((outcome) => {
      void flight.committed.finally(() => this.flights.release(key, flight));
      if (record && outcome.kind === 'ended' && outcome.verdict.storable) record.produced(outcome.verdict.entry);
      if (writer && outcome.kind === 'ended' && outcome.verdict.storable) {
        hooks.onCommit?.(flight.committed, labels);
        const { entry } = outcome.verdict;
        const semantic = this.#semantic;
        // Only what the exact cache stored becomes a semantic candidate.
        if (query && semantic) {
          void flight.committed.then((stored) => {
            if (stored) void semantic.record(query, key, entry);
          });
        }
      }
      // Worth a warning only for an answer that was meant to be stored: a bypass is never recorded, by intent.
      if (writer && outcome.kind === 'ended' && !outcome.verdict.storable && outcome.head.status === 200) {
        hooks.onNotStored?.(outcome.verdict.reason, labels);
      }
      if (writer) return;
      const reason =
        outcome.kind === 'failed' ? outcome.failure.code : outcome.verdict.storable ? 'not_writable' : outcome.verdict.reason;
      hooks.onWrite?.(`skipped:${reasonCode(reason)}`, labels);
    });
    // Built in place (spreads cost every forwarded call), in the order x-sluice-cache, cache-status, x-sluice-key, shadow.
    const headers = forwardHeaders(plan.forwardOutcome, stale);
    if (key !== '') headers['x-sluice-key'] = key;
    if (shadow !== undefined) Object.assign(headers, shadowHeaders(shadow));
    const stripper = stripperFor(protocol, sent, request, config.maxEntryBytes);
    if (!flight.attach(port.stream(headers, stripper), call.caller)) {
      lease?.giveBack();
      return;
    }
    // The other replicas follow this flight through Redis.
    lease?.lead(flight, sent);
    void driveFlight(flight, call.source, sent, call.limits ?? config.limits, {
      onHeaders: (s) => record?.upstreamHeaders(s * 1000),
      onEnd: (s) => record?.upstreamEnded(s * 1000),
      onFailure: (failure) => {
        record?.failed(failure.code);
        hooks.onFailure?.(failure, labels);
      },
    });
  }
}

function reasonCode(reason: string | undefined): string {
  return (reason ?? 'unknown').split(':')[0] as string;
}
