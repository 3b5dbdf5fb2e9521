import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { z } from 'zod';
import { type PurgeFilter, StoreError } from './store.js';

/**
 * L1 coherence across replicas sharing one Redis (issue 23): every change to an entry made
 * through any replica reaches every replica's memory (L1) within milliseconds.
 *
 * Redis's own mechanism does most of it: server-assisted client-side caching in broadcast mode.
 * One connection per master runs `CLIENT TRACKING on REDIRECT <itself> BCAST PREFIX <prefix>e:`
 * and subscribes to `__redis__:invalidate` (RESP2, which ioredis speaks), so Redis names every
 * entry key that changes (SET by a store or a refresh, UNLINK by a purge, expiry, eviction) and
 * sends null on FLUSHALL. Tracking is per node, so a Redis Cluster gets one link per master,
 * following topology changes; Sentinel's client follows a failover and the link re-arms on ready.
 *
 * One pub/sub channel (`<prefix>purge`) carries only what tracking cannot express: a purge must
 * also reach entries another replica holds in memory alone (stored while its L2 write failed,
 * so Redis never had them); each replica applies the filter to its own L1.
 *
 * A replica that lost a link cannot know what it missed (Redis's client-side caching guide):
 * from the moment it notices (the connection closed, or a heartbeat PING went unanswered), it
 * flushes L1, and until every link is re-established it does not copy L2 hits into L1. When the
 * links come back it flushes L1 again: what it stored on its own meanwhile may have been purged
 * elsewhere, and it could not hear that. While unlinked it keeps its own answers in L1 only for a
 * short life (`unlinkedLifeMs`, 1 s): it cannot prove them fresh for longer, since another
 * replica may replace or purge them unheard (rule 10). A server that refuses tracking (an ACL
 * denying CLIENT, Redis < 6, some managed services) leaves the replica unlinked for good, but its
 * link still subscribes to the purge channel, so purges reach its L1 at once.
 */

export type CoherenceState = 'linked' | 'unlinked';

/** Lets one L2 read fill L1; void if the key changed (or the link dropped) since the read began. */
export interface FillTicket {
  readonly valid: boolean;
  done(): void;
}

/** What TieredStore asks of a coherence source. */
export interface TierCoherence {
  /**
   * Before an L2 read that may fill L1: a ticket, or undefined when L1 must not be filled from L2
   * now (a link is down). The read's answer goes into L1 only if the ticket is still valid, since
   * the invalidation and the reply travel on different connections and may cross.
   */
  beginFill(key: string): FillTicket | undefined;
  /**
   * How long this process may keep its own write in L1: undefined while linked (the entry's own
   * life), else a short cap, since a change made elsewhere might not be heard.
   */
  ownWriteLifeMs(): number | undefined;
  /** After a purge: every other replica applies the filter to its L1. Never throws. */
  announcePurge(filter: PurgeFilter): Promise<void>;
  close(): Promise<void>;
}

/** What the coherence needs of L1: synchronous, since it is process memory. */
export interface CoherentL1 {
  remove(key: string): void;
  clear(): void;
  purge(filter: PurgeFilter): Promise<number>;
}

/** What it needs of the Redis store: its prefix, and its client (links are made like it, Sentinel-aware too). */
export interface CoherenceSource {
  readonly keyPrefix: string;
  readonly client: Redis | Cluster;
}

export interface RedisCoherenceOptions {
  source: CoherenceSource;
  l1: CoherentL1;
  /** Interval of the PING that finds a stalled link. Default 1000 ms; an unanswered PING (commandTimeout) drops the link. */
  heartbeatMs?: number;
  /** While unlinked, how long the replica keeps its own writes in L1. Default 1000 ms (0: not at all). */
  unlinkedLifeMs?: number;
  onStateChange?: (state: CoherenceState) => void;
  onLinkError?: (err: Error) => void;
}

const INVALIDATE_CHANNEL = '__redis__:invalidate';
const RECENT_PURGES = 256;
const RETRY_REFUSED_MS = 60_000;

/**
 * A purge message as another replica sends it. Anyone who may PUBLISH can send anything on the
 * channel, so a message is checked before it is acted on: a filter names exactly one of key,
 * namespace, tag or all (strict objects, so `{ key, all }` is refused rather than read as a key).
 */
const purgeFilterSchema: z.ZodType<PurgeFilter> = z.union([
  z.strictObject({ key: z.string().min(1) }),
  z.strictObject({ namespace: z.string().min(1) }),
  z.strictObject({ tag: z.string().min(1) }),
  z.strictObject({ all: z.literal(true) }),
]);
const purgeMessageSchema = z.object({ id: z.string().min(1), from: z.string().min(1), filter: purgeFilterSchema });
type PurgeMessage = z.infer<typeof purgeMessageSchema>;

export class RedisCoherence implements TierCoherence {
  readonly #source: CoherenceSource;
  readonly #l1: CoherentL1;
  readonly #entryPrefix: string;
  readonly #purgeChannel: string;
  readonly #instance = randomUUID();
  /** The name of this process's links in CLIENT LIST, so an operator can tell them apart. */
  readonly connectionName = `sluice-coherence-${this.#instance.slice(0, 8)}`;
  readonly #links = new Map<string, InvalidationLink>();
  readonly #fills = new Map<string, Set<Ticket>>();
  readonly #recentPurges = new Set<string>();
  readonly #onStateChange: ((state: CoherenceState) => void) | undefined;
  readonly #onLinkError: ((err: Error) => void) | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #unlinkedLifeMs: number;
  #state: CoherenceState = 'unlinked';
  #closed = false;
  #publisher: Redis | Cluster | undefined;

  constructor(options: RedisCoherenceOptions) {
    this.#source = options.source;
    this.#l1 = options.l1;
    this.#entryPrefix = `${options.source.keyPrefix}e:`;
    this.#purgeChannel = `${options.source.keyPrefix}purge`;
    this.#onStateChange = options.onStateChange;
    this.#onLinkError = options.onLinkError;
    this.#unlinkedLifeMs = options.unlinkedLifeMs ?? 1000;
    const client = this.#source.client;
    if (client instanceof Cluster) {
      const reconcile = () => this.#reconcile();
      for (const event of ['ready', '+node', '-node', 'refresh']) client.on(event, reconcile);
    } else {
      this.#links.set('standalone', this.#newLink(() => client.duplicate({ connectionName: this.connectionName })));
    }
    this.#reconcile();
    this.#heartbeat = setInterval(() => {
      this.#reconcile();
      for (const link of this.#links.values()) link.heartbeat();
    }, options.heartbeatMs ?? 1000);
    this.#heartbeat.unref();
  }

  get state(): CoherenceState {
    return this.#state;
  }

  beginFill(key: string): FillTicket | undefined {
    if (this.#state !== 'linked') return undefined;
    const ticket = new Ticket(this, key);
    let set = this.#fills.get(key);
    if (set === undefined) {
      set = new Set();
      this.#fills.set(key, set);
    }
    set.add(ticket);
    return ticket;
  }

  /** @internal for Ticket */
  linkedNow(): boolean {
    return this.#state === 'linked';
  }

  /** @internal for Ticket */
  forget(ticket: Ticket): void {
    const set = this.#fills.get(ticket.key);
    if (set === undefined) return;
    set.delete(ticket);
    if (set.size === 0) this.#fills.delete(ticket.key);
  }

  ownWriteLifeMs(): number | undefined {
    return this.#state === 'linked' ? undefined : this.#unlinkedLifeMs;
  }

  async announcePurge(filter: PurgeFilter): Promise<void> {
    const message: PurgeMessage = { id: randomUUID(), from: this.#instance, filter };
    try {
      this.#publisher ??= this.#source.client;
      await this.#publisher.publish(this.#purgeChannel, JSON.stringify(message));
    } catch (err) {
      // Replicas that miss it are unlinked, and flush when they relink.
      this.#onLinkError?.(err as Error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    await Promise.all([...this.#links.values()].map((link) => link.close()));
    this.#links.clear();
  }

  /**
   * Keys changed in Redis (null: the whole database was flushed). The L1 copy goes even when the
   * change was this process's own write: Redis sends one invalidation per key per event-loop
   * cycle however many writes landed in it, so an echo cannot be told from another replica's
   * write made in the same cycle. Our own write costs one L2 read later, which refills L1.
   */
  #invalidated(redisKeys: Buffer[] | null): void {
    if (redisKeys === null) {
      this.#flush();
      return;
    }
    for (const raw of redisKeys) {
      const redisKey = raw.toString('utf8');
      if (!redisKey.startsWith(this.#entryPrefix)) continue;
      const key = redisKey.slice(this.#entryPrefix.length);
      this.#voidFills(key);
      this.#l1.remove(key);
    }
  }

  #purgeMessage(payload: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const checked = purgeMessageSchema.safeParse(parsed);
    if (!checked.success) {
      // Not from a replica (or from an incompatible one): dropped, and said at debug level.
      this.#onLinkError?.(new Error(`ignored a malformed message on ${this.#purgeChannel}`));
      return;
    }
    const message = checked.data;
    // Each master's link hears a cluster-wide PUBLISH; apply each purge once, and never our own.
    if (message.from === this.#instance || this.#recentPurges.has(message.id)) return;
    this.#recentPurges.add(message.id);
    if (this.#recentPurges.size > RECENT_PURGES) {
      const oldest = this.#recentPurges.values().next().value;
      if (oldest !== undefined) this.#recentPurges.delete(oldest);
    }
    if ('key' in message.filter) this.#voidFills(message.filter.key);
    else this.#voidAllFills();
    void this.#l1.purge(message.filter).catch(() => undefined);
  }

  #voidFills(key: string): void {
    const set = this.#fills.get(key);
    if (set === undefined) return;
    for (const ticket of set) ticket.void();
    this.#fills.delete(key);
  }

  #voidAllFills(): void {
    for (const set of this.#fills.values()) for (const ticket of set) ticket.void();
    this.#fills.clear();
  }

  #flush(): void {
    this.#voidAllFills();
    this.#l1.clear();
  }

  /** Linked only when every link is; each transition flushes L1 (see the class comment). */
  #updateState(): void {
    if (this.#closed) return;
    const links = [...this.#links.values()];
    const next: CoherenceState = links.length > 0 && links.every((link) => link.established) ? 'linked' : 'unlinked';
    if (next === this.#state) return;
    this.#state = next;
    this.#flush();
    this.#onStateChange?.(next);
  }

  /** On a cluster: one link per current master; links to nodes no longer masters are closed. */
  #reconcile(): void {
    const client = this.#source.client;
    if (this.#closed || !(client instanceof Cluster)) return;
    if (client.status !== 'ready') return;
    const masters = new Map(client.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
    let changed = false;
    for (const [address, link] of this.#links) {
      if (masters.has(address)) continue;
      this.#links.delete(address);
      void link.close();
      changed = true;
    }
    for (const [address, node] of masters) {
      if (this.#links.has(address)) continue;
      this.#links.set(
        address,
        this.#newLink(() => node.duplicate({ lazyConnect: false, readOnly: false, connectionName: this.connectionName })),
      );
      changed = true;
    }
    if (changed) this.#updateState();
  }

  #newLink(connect: () => Redis): InvalidationLink {
    return new InvalidationLink(connect, {
      prefix: this.#entryPrefix,
      purgeChannel: this.#purgeChannel,
      onChange: () => this.#updateState(),
      onInvalidate: (keys) => this.#invalidated(keys),
      onPurge: (payload) => this.#purgeMessage(payload),
      onError: (err) => this.#onLinkError?.(err),
    });
  }
}

class Ticket implements FillTicket {
  #voided = false;
  constructor(
    readonly owner: RedisCoherence,
    readonly key: string,
  ) {}

  get valid(): boolean {
    return !this.#voided && this.owner.linkedNow();
  }

  void(): void {
    this.#voided = true;
  }

  done(): void {
    this.owner.forget(this);
  }
}

/** The server refused to set up a link (as opposed to a link that dropped). */
export class CoherenceSetUpError extends StoreError {
  constructor(message: string) {
    super('STORE_UNAVAILABLE', message);
    this.name = 'CoherenceSetUpError';
  }
}

interface LinkHandlers {
  prefix: string;
  purgeChannel: string;
  onChange(): void;
  onInvalidate(keys: Buffer[] | null): void;
  onPurge(payload: Buffer): void;
  onError(err: Error): void;
}

/**
 * One connection to one node: tracking redirected to itself, subscribed to the invalidation
 * and purge channels. `established` only between a completed set-up and the first sign of loss.
 */
class InvalidationLink {
  readonly #connection: Redis;
  readonly #handlers: LinkHandlers;
  #established = false;
  #closed = false;
  #pinging = false;
  /** When the server last refused tracking (the link then carries purges only). */
  #refusedAt: number | undefined;
  /** Counts connections: a set-up still running for an older one must not act on the new one. */
  #generation = 0;

  constructor(connect: () => Redis, handlers: LinkHandlers) {
    this.#handlers = handlers;
    this.#connection = connect();
    this.#connection.on('error', (err: Error) => handlers.onError(err));
    this.#connection.on('ready', () => void this.#setUp());
    this.#connection.on('close', () => this.#lost());
    this.#connection.on('messageBuffer', (channel: Buffer, message: Buffer | Buffer[] | null) => {
      // This runs inside ioredis's parser: a throw here would be an uncaught exception in every
      // replica at once. Whatever goes wrong with one message is reported and the link goes on.
      try {
        const name = channel.toString('utf8');
        if (name === INVALIDATE_CHANNEL) handlers.onInvalidate(Array.isArray(message) ? message : null);
        else if (name === handlers.purgeChannel && Buffer.isBuffer(message)) handlers.onPurge(message);
      } catch (err) {
        handlers.onError(err instanceof Error ? err : new Error(String(err)));
      }
    });
    if (this.#connection.status === 'ready') void this.#setUp();
  }

  get established(): boolean {
    return this.#established;
  }

  /** A stalled link (a black hole, no close) is found by a PING that gets no answer. */
  heartbeat(): void {
    // A server that refused tracking is asked again now and then (the operator may fix the ACL).
    if (this.#refusedAt !== undefined && Date.now() - this.#refusedAt > RETRY_REFUSED_MS && !this.#closed) {
      this.#refusedAt = undefined;
      this.#connection.disconnect(true);
      return;
    }
    if (!this.#established || this.#pinging) return;
    this.#pinging = true;
    this.#connection
      .ping()
      .catch((err: Error) => {
        this.#handlers.onError(err);
        this.#lost();
        // Reconnect from scratch: a link that stopped answering may have lost anything.
        if (!this.#closed) this.#connection.disconnect(true);
      })
      .finally(() => {
        this.#pinging = false;
      });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#lost();
    this.#connection.disconnect();
  }

  async #setUp(): Promise<void> {
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#refusedAt = undefined;
    try {
      const tracking = await this.#track();
      // The purge channel is subscribed whether or not the server allowed tracking: purges must
      // reach this replica's L1 even when store and refresh invalidations cannot.
      const channels = tracking ? [INVALIDATE_CHANNEL, this.#handlers.purgeChannel] : [this.#handlers.purgeChannel];
      await this.#connection.subscribe(...channels);
      if (this.#closed || generation !== this.#generation || this.#connection.status !== 'ready') return;
      if (!tracking) {
        this.#refusedAt = Date.now();
        return;
      }
      this.#established = true;
      this.#handlers.onChange();
    } catch (err) {
      // The connection dropped mid-set-up: the next 'ready' retries.
      if (generation !== this.#generation) return;
      this.#handlers.onError(err as Error);
      if (!this.#closed) this.#connection.disconnect(true);
    }
  }

  /**
   * Turns tracking on, redirected to this connection. False if the server refuses (a reply
   * error: Redis < 6, CLIENT renamed or denied by an ACL): the replica stays unlinked (correct,
   * no L2 hit is kept in L1, but slower), so the operator must hear of it.
   */
  async #track(): Promise<boolean> {
    try {
      const id = await this.#connection.client('ID');
      await this.#connection.call(
        'CLIENT',
        'TRACKING',
        'on',
        'REDIRECT',
        String(id),
        'BCAST',
        'PREFIX',
        this.#handlers.prefix,
      );
      return true;
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ReplyError')) throw err;
      this.#handlers.onError(new CoherenceSetUpError(`coherence link set-up refused: ${err.message}`));
      return false;
    }
  }

  #lost(): void {
    if (!this.#established) return;
    this.#established = false;
    this.#handlers.onChange();
  }
}
