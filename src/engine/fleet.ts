import { COALESCED_HEADERS, type CacheOutcome, keyHeader } from '../cache/cache-status.js';
import type { FlightRelay, RelayEntry, RelayHead, StreamEntries } from '../cache/flight-relay.js';
import { Flight, type UpstreamFailure } from '../capture/flight.js';
import { judgeAnswer } from '../capture/gate.js';
import type { FailureCode } from '../errors.js';
import type { RequestInfo } from '../protocols/types.js';
import { withStreamUsage } from '../replay/usage-strip.js';
import type { CallPort, EngineCall, EngineConfig } from './call.js';
import { LeaderLease } from './fleet-leader.js';

/**
 * Coalescing across replicas (DESIGN.md §1): the engine's in-process flights, extended to the
 * fleet through a FlightRelay (src/cache/flight-relay.ts). For a key with no local flight, the
 * replica claims the key's lease in Redis:
 * - won: this replica is the leader. Its flight runs as any other, and a publisher listener
 *   copies the answer (head, bytes, end or failure) into the flight's stream, fenced by the lease;
 *   it keeps the flight alive while followers on other replicas are present.
 * - lost: it follows the leader's stream. Local callers wait (sending nothing) until the head
 *   comes; then a relayed Flight, with no entry writer, is fed from the stream and the callers
 *   join it as they join any flight (live bytes, or their own framing at the end). Later local
 *   callers join that flight in process.
 * - Redis slow or down: the call goes on in process alone (fail open).
 * A leader that dies before its head lets its followers take over (they run the call again); one
 * that dies after it cuts them, as an upstream reset would.
 * The leader's side (lease, publisher) is in fleet-leader.ts; the follower's is here, with the
 * engine's wait on it (followLeader).
 */

export type FleetRole =
  | { kind: 'leader'; lease: LeaderLease }
  | { kind: 'follower'; follow: RelayFollow }
  /** A leader just stored the answer: look in the store again. */
  | { kind: 'stored' }
  | { kind: 'local' };

/** What a local caller waiting on a followed stream hears, once. */
export interface FollowWaiter {
  /** Make the relayed flight from the leader's head (the first waiter's is used). */
  makeFlight(head: RelayHead): Flight;
  /** The flight has its head: join it now (synchronously: the next entries follow at once). */
  onFlight(flight: Flight): void;
  /** The leader's call failed before any byte: answer with its failure. */
  onFailure(failure: UpstreamFailure): void;
  /** The leader died before its head, or the relay cannot carry this answer: run the call again. */
  onRetry(): void;
}

export interface FleetCoalescerOptions {
  relay: FlightRelay;
  /** Bound on the claim's round trip: past it the call goes on in process. */
  claimTimeoutMs: number;
  /** Answers larger than this are not relayed (followers on other replicas make their own call). */
  maxRelayBytes: number;
  onError?(op: string, err: unknown): void;
  /** Close what the relay runs on (its connections). */
  onClose?(): void;
}

/** Where relayed flights are registered once they have their head, so that later local callers join them (the engine's). */
interface Registry {
  register(key: string, flight: Flight): void;
  release(key: string, flight: Flight): void;
}

const LEADER_LOST: UpstreamFailure = {
  code: 'leader_lost',
  status: 502,
  message: 'the replica that made the shared upstream call stopped before the answer ended; retry the request',
};

export class FleetCoalescer {
  readonly #claims = new Map<string, Promise<FleetRole>>();
  readonly #follows = new Map<string, RelayFollow>();
  #registry: Registry | undefined;

  constructor(readonly options: FleetCoalescerOptions) {}

  /** The engine's flight registry (an engine binds itself at construction). */
  bind(registry: Registry): void {
    this.#registry = registry;
  }

  /** The key's role in the fleet; concurrent local callers of one key share one claim. */
  claim(key: string): Promise<FleetRole> {
    const follow = this.#follows.get(key);
    if (follow) return Promise.resolve({ kind: 'follower', follow });
    const pending = this.#claims.get(key);
    if (pending) return pending;
    const claimed = this.#claim(key);
    this.#claims.set(key, claimed);
    void claimed.finally(() => this.#claims.delete(key));
    return claimed;
  }

  close(): void {
    this.options.relay.close();
    this.options.onClose?.();
  }

  async #claim(key: string): Promise<FleetRole> {
    const { relay, claimTimeoutMs } = this.options;
    const attempt = relay.claim(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), claimTimeoutMs);
    });
    try {
      const claim = await Promise.race([attempt, timeout]);
      if (claim === 'timeout') {
        // A lease won too late is given back, so that no replica waits on a leader that never runs.
        attempt.then((late) => (late.leader ? relay.release(key, late.token) : undefined)).catch(() => undefined);
        this.options.onError?.('claim', new Error(`no answer within ${claimTimeoutMs} ms`));
        return { kind: 'local' };
      }
      if (claim.leader) return { kind: 'leader', lease: new LeaderLease(this.options, key, claim.token) };
      if ('stored' in claim) return { kind: 'stored' };
      const registry = this.#registry;
      if (!registry) return { kind: 'local' };
      const follow: RelayFollow = new RelayFollow(this.options, registry, key, claim.token, claim.entries, () => {
        if (this.#follows.get(key) === follow) this.#follows.delete(key);
      });
      this.#follows.set(key, follow);
      return { kind: 'follower', follow };
    } catch (err) {
      this.options.onError?.('claim', err);
      return { kind: 'local' };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One followed stream on this replica, shared by its local callers. */
export class RelayFollow {
  readonly #waiters = new Set<FollowWaiter>();
  #flight: Flight | undefined;
  #started = false;
  #over = false;
  #handle: { stop(): void } | undefined;

  constructor(
    private readonly options: FleetCoalescerOptions,
    private readonly registry: Registry,
    readonly key: string,
    readonly token: string,
    private readonly entries: StreamEntries,
    private readonly forget: () => void,
  ) {}

  /**
   * Wait for the leader's head (or its end). Returns what undoes the wait (the caller left);
   * false when this follow no longer takes waiters (its flight has begun: join it in process).
   */
  wait(waiter: FollowWaiter): (() => void) | false {
    if (this.#flight || this.#over) return false;
    this.#waiters.add(waiter);
    if (!this.#started) {
      this.#started = true;
      this.#handle = this.options.relay.follow(
        this.key,
        this.token,
        (entry) => this.#take(entry),
        () => this.#lost(),
        this.entries,
      );
    }
    // The entries the claim read are taken inside follow(): the waiter may have its answer already.
    return () => {
      this.#waiters.delete(waiter);
      if (this.#waiters.size === 0 && !this.#flight) this.#end();
    };
  }

  #take(entry: RelayEntry): void {
    const flight = this.#flight;
    switch (entry.type) {
      case 'head': {
        const first = this.#waiters.values().next().value;
        if (!first || flight) return;
        const made = first.makeFlight(entry.head);
        this.#flight = made;
        this.forget();
        this.registry.register(this.key, made);
        made.onSettled(() => {
          this.registry.release(this.key, made);
          this.#end();
        });
        made.start({ status: entry.head.status, contentType: entry.head.contentType, headers: entry.head.headers });
        const waiters = [...this.#waiters];
        this.#waiters.clear();
        for (const waiter of waiters) waiter.onFlight(made);
        return;
      }
      case 'data':
        flight?.push(entry.bytes, Date.now());
        return;
      case 'end':
        flight?.finish();
        this.#end();
        return;
      case 'failed': {
        const failure: UpstreamFailure = {
          code: entry.failure.code as FailureCode,
          status: entry.failure.status as UpstreamFailure['status'],
          message: entry.failure.message,
        };
        if (flight) flight.abort(failure);
        else this.#settleWaiters((waiter) => waiter.onFailure(failure));
        this.#end();
        return;
      }
      case 'overflow':
        if (flight) {
          flight.abort({
            code: 'response_too_large',
            status: 502,
            message: `the shared answer outgrew the ${this.options.maxRelayBytes}-byte relay bound`,
          });
        } else this.#settleWaiters((waiter) => waiter.onRetry());
        this.#end();
        return;
    }
  }

  #lost(): void {
    if (this.#flight) this.#flight.abort(LEADER_LOST);
    else this.#settleWaiters((waiter) => waiter.onRetry());
    this.#end();
  }

  #settleWaiters(tell: (waiter: FollowWaiter) => void): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) tell(waiter);
  }

  #end(): void {
    if (this.#over) return;
    this.#over = true;
    this.forget();
    this.#handle?.stop();
  }
}

/** How a follower wait ended: answered (COALESCED), the caller left, run the call again, or join the local flight. */
export type FollowOutcome = CacheOutcome | 'ABANDONED' | 'retry' | 'joinable';

/** What the engine hands a follower wait: the call, where its answer goes, and how it joins a flight. */
export interface FollowerCall {
  call: EngineCall;
  port: CallPort;
  config: EngineConfig;
  key: string;
  /** Whether the call read the cache (its plan), for its outcome record. */
  read: boolean;
  /** The engine's join: the caller takes the flight's bytes as they come, or its converted end. */
  join(flight: Flight): void;
}

/**
 * Wait on another replica's flight: sending nothing until its head comes, then joined like any
 * flight. 'retry': the leader died before its head (or the relay cannot carry the answer), so
 * the call runs again from its lookup; 'joinable': the follow had begun, join its flight here.
 */
export function followLeader(follow: RelayFollow, follower: FollowerCall): Promise<FollowOutcome> {
  const { call, port, key, read } = follower;
  return new Promise((resolve) => {
    // Replaced by the caller's leave subscription once the wait is on.
    let unsubscribe = (): void => undefined;
    let settled = false;
    const settle = (outcome: FollowOutcome) => {
      settled = true;
      unsubscribe();
      resolve(outcome);
    };
    const waiting = follow.wait({
      makeFlight: (head) => relayedFlight(call, head, follower.config),
      onFlight: (flight) => {
        call.record?.looked(key, 'none', 'coalesced', read);
        call.record?.answered('COALESCED');
        follower.join(flight);
        settle('COALESCED');
      },
      onFailure: (failure) => {
        call.record?.looked(key, 'none', 'coalesced', read);
        call.record?.answered('COALESCED');
        port.answer({ kind: 'failure', failure }, { ...COALESCED_HEADERS, ...keyHeader(key) });
        settle('COALESCED');
      },
      onRetry: () => settle(call.caller.left ? 'ABANDONED' : 'retry'),
    });
    if (waiting === false) {
      resolve('joinable');
      return;
    }
    // What the claim read may have answered it already (a late follower of a finished flight).
    if (settled) return;
    unsubscribe = call.caller.onLeave(() => {
      waiting();
      resolve('ABANDONED');
    });
  });
}

/**
 * The local image of another replica's flight: fed from the relay, judged like any flight so
 * that converting followers get their answer, and with no entry writer (DESIGN.md rule 8: only
 * the leader commits).
 */
function relayedFlight(call: EngineCall, head: RelayHead, config: EngineConfig): Flight {
  const { protocol, controls } = call;
  // The request the leader sent differs from this one at most in its framing, which the head tells.
  const own = call.request;
  const leader: RequestInfo =
    own.stream === head.stream && own.wantsStreamUsage === head.wantsStreamUsage
      ? own
      : withStreamUsage(
          protocol,
          { ...own, body: { ...own.body, stream: head.stream }, stream: head.stream, wantsStreamUsage: false },
          head.wantsStreamUsage,
        );
  const ttlSeconds = Math.min(controls.ttlSeconds ?? config.ttlSeconds, config.maxTtlSeconds);
  const meta = { ttlMs: ttlSeconds * 1000, namespace: controls.namespace, tags: controls.tags };
  return new Flight({
    maxEntryBytes: config.maxEntryBytes,
    maxListeners: config.maxFollowers,
    completeOnDisconnect: false,
    leader,
    judge: (h, recorder, upstreamMs) => judgeAnswer(protocol, leader, h, recorder, { ...meta, upstreamMs }),
  });
}
