import type { RelayEntry, RelayHead } from '../cache/flight-relay.js';
import type { Flight, FlightHead, FlightListener, FlightOutcome } from '../capture/flight.js';
import type { RequestInfo } from '../protocols/types.js';
import type { FleetCoalescerOptions } from './fleet.js';

/**
 * The leader's side of coalescing across replicas (see engine/fleet.ts): the lease a replica won
 * for a key, and the publisher that copies the leader's flight into the key's Redis Stream.
 */

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
