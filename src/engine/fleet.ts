import type { FlightRelay, RelayEntry, RelayHead, StreamEntries } from '../cache/flight-relay.js';
import type { Flight, FlightHead, FlightListener, FlightOutcome, UpstreamFailure } from '../capture/flight.js';
import type { FailureCode } from '../errors.js';
import type { RequestInfo } from '../protocols/types.js';

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

/** The lease this replica holds for one key: used by the first local caller that goes upstream. */
export class LeaderLease {
  #taken = false;

  constructor(
    private readonly options: FleetCoalescerOptions,
    readonly key: string,
    readonly token: string,
  ) {}

  /** True once, for the caller that makes the upstream call. */
  take(): boolean {
    if (this.#taken) return false;
    this.#taken = true;
    return true;
  }

  /** Nobody goes upstream under this lease any more: let another replica lead (`stored`: after it looks again). */
  giveBack(stored = false): void {
    this.options.relay.release(this.key, this.token, stored).catch(() => undefined);
  }

  /** Copy `flight` into the key's stream while it lives; `sent`: the request that went upstream. */
  lead(flight: Flight, sent: RequestInfo): void {
    new Publisher(this.options, this, flight, sent).start();
  }
}

/**
 * The leader's relay: a raw listener on its flight that never applies backpressure (a slow
 * follower, local or remote, never throttles the upstream read), whose writes are pipelined on
 * the relay's connection in order and fenced by the lease.
 */
class Publisher implements FlightListener {
  readonly raw = true;
  #bytes = 0;
  #broken = false;
  #attached = false;
  #renewal: NodeJS.Timeout | undefined;
  #remoteFollowers = 0;
  #pending: Buffer[] = [];
  #flushing: NodeJS.Immediate | undefined;

  constructor(
    private readonly options: FleetCoalescerOptions,
    private readonly lease: LeaderLease,
    private readonly flight: Flight,
    private readonly sent: RequestInfo,
  ) {}

  start(): void {
    const { relay } = this.options;
    this.#attached = this.flight.attach(this);
    this.#renewal = setInterval(() => void this.#renew(), Math.max(50, Math.floor(relay.leaseMs / 3)));
    this.#renewal.unref();
  }

  onHead(head: FlightHead): void {
    const headers: RelayHead['headers'] = {};
    for (const [name, value] of Object.entries(head.headers)) if (value !== undefined) headers[name] = value;
    this.#publish({
      type: 'head',
      head: {
        status: head.status,
        contentType: head.contentType,
        headers,
        stream: this.sent.stream,
        wantsStreamUsage: this.sent.wantsStreamUsage,
      },
    });
  }

  onData(chunk: Uint8Array): void {
    if (this.#broken) return;
    this.#bytes += chunk.byteLength;
    if (this.#bytes > this.options.maxRelayBytes) {
      // Past the relay bound: followers elsewhere stop here, and the lease goes so that later callers make their own call.
      this.#pending = [];
      this.#publish({ type: 'overflow' });
      this.#stop();
      return;
    }
    // The pieces that arrive in one turn of the event loop leave as one stream entry, right after it.
    this.#pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#flushing ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    const pieces = this.#pending;
    if (pieces.length === 0) return;
    this.#pending = [];
    this.#publish({ type: 'data', bytes: pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces) });
  }

  onSettled(outcome: FlightOutcome): void {
    this.#flush();
    if (outcome.kind === 'ended') this.#publish({ type: 'end' });
    else {
      const { code, status, message } = outcome.failure;
      this.#publish({ type: 'failed', failure: { code, status, message } });
    }
    // The lease is held until the entry is written, so that a caller arriving meanwhile follows instead of calling again.
    void this.flight.committed.then(
      (stored) => this.#stop(stored),
      () => this.#stop(),
    );
  }

  /** Told when every other listener has left: stay only while followers on other replicas listen. */
  onAlone(): void {
    void this.#renew();
  }

  #publish(entry: RelayEntry): void {
    if (this.#broken) return;
    this.options.relay.publish(this.lease.key, this.lease.token, entry).then(
      (written) => {
        if (!written) this.#lose();
      },
      (err: unknown) => {
        this.options.onError?.('publish', err);
        this.#lose();
      },
    );
  }

  async #renew(): Promise<void> {
    if (this.#broken) return;
    try {
      const followers = await this.options.relay.renew(this.lease.key, this.lease.token);
      if (followers < 0) {
        this.#lose();
        return;
      }
      this.#remoteFollowers = followers;
    } catch (err) {
      this.options.onError?.('renew', err);
      return;
    }
    if (this.#remoteFollowers === 0 && this.flight.listenerCount === 1 && this.#attached) {
      // Nobody in the fleet listens any more: leaving is what aborts the upstream (unless completeOnDisconnect).
      this.#attached = false;
      this.flight.detach(this);
    }
  }

  /** The relay cannot go on (lease lost, Redis down): the flight goes on for its local clients only. */
  #lose(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#stopTimer();
    if (this.#attached) {
      this.#attached = false;
      this.flight.detach(this);
    }
  }

  #stop(stored = false): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#stopTimer();
    this.lease.giveBack(stored);
  }

  #stopTimer(): void {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    if (this.#renewal) clearInterval(this.#renewal);
    this.#renewal = undefined;
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
