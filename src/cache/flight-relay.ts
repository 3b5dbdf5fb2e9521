import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-store.js';

/**
 * The Redis side of coalescing across replicas: a leader lease per flight, the live bytes through
 * one Redis Stream per flight, and follower presence. Nothing here knows about flights or HTTP.
 *
 * Keys (all under one hash tag, so a multi-stream XREAD is legal on a Cluster too):
 * - `<prefix>{flights}:lease:<key>`: the leader's token (`SET NX PX`, renewed while it lives);
 * - `<prefix>{flights}:s:<key>:<token>`: the flight's stream, one per lease, so a new leader never
 *   writes into a dead one's stream;
 * - `<prefix>{flights}:f:<key>:<token>`: followers present (replica id → expiry, Redis time);
 * - `<prefix>{flights}:wake:<replica>`: written to wake this replica's blocked reader.
 *
 * Every write the leader makes goes through a script that checks the lease's token first
 * (fencing): a paused leader that lost its lease cannot write beside a new one.
 */

export type RelayEntry =
  | { type: 'head'; head: RelayHead }
  | { type: 'data'; bytes: Buffer }
  | { type: 'end' }
  | { type: 'failed'; failure: RelayFailure }
  /** The answer outgrew the relay bound: the stream stops here, the answer goes on for the leader's own clients. */
  | { type: 'overflow' };

export interface RelayHead {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | number>;
  /** The framing of the request the leader sent (a follower compares its own with it). */
  stream: boolean;
  wantsStreamUsage: boolean;
}

export interface RelayFailure {
  code: string;
  status: number;
  message: string;
}

/**
 * A lost claim carries what the leader's stream held then, so a follower starts without another
 * round trip. `stored`: a leader just finished and stored the answer (its entry may not have been
 * there when the caller looked): look in the store again.
 */
export type Claim =
  | { leader: true; token: string }
  | { leader: false; token: string; entries: StreamEntries }
  | { leader: false; stored: true };

export interface FlightRelayOptions {
  /** A connection of its own for the relay's commands (never blocked). */
  commands: RedisClient;
  /** A connection for blocking reads only. */
  reader: RedisClient;
  keyPrefix: string;
  replicaId: string;
  /** The lease's life without renewal; the leader renews it every third of it. */
  leaseMs: number;
  /** How long a stream outlives its last write. */
  streamTtlMs?: number;
  /** Bound on the entries of one stream (MAXLEN), beside the byte bound the leader applies. */
  maxEntries?: number;
}

const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, ARGV[1]} end
local token = redis.call('GET', KEYS[1])
if not token then return {2, ''} end
if token == 'DONE' then return {3, ''} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local presence = KEYS[2] .. token
redis.call('ZADD', presence, now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', presence, ARGV[2] * 4)
return {0, token, redis.call('XRANGE', KEYS[3] .. token, '-', '+', 'COUNT', ARGV[5])}`;

const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '*', 't', ARGV[4], 'v', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`;

/** Renew the lease and count the followers still present; -1: the lease is lost. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('ZCARD', KEYS[2])`;

/** A follower's heartbeat: 1 while the leader holds the lease (presence renewed), 0 once it is gone. */
const FOLLOW_TICK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1`;

/** Give the lease up; after a stored answer it is left as DONE for a moment (see claim()). */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('SET', KEYS[1], 'DONE', 'PX', ARGV[2]) end
return redis.call('DEL', KEYS[1])`;

/**
 * Always EVAL, never EVALSHA with a NOSCRIPT fallback: a fallback is sent again later, behind
 * commands issued since, and the relay's writes must reach Redis in the order they were made
 * (a chunk, the end, the lease's release). Redis keeps the compiled script; only its text travels.
 */
class Script {
  constructor(readonly source: string) {}

  run(client: RedisClient, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    return client.eval(this.source, keys.length, ...keys, ...args);
  }
}

const scripts = {
  publish: new Script(PUBLISH),
  renew: new Script(RENEW),
  followTick: new Script(FOLLOW_TICK),
  release: new Script(RELEASE),
};

/** A stream some local caller follows. */
interface Followed {
  key: string;
  token: string;
  stream: string;
  lastId: string;
  onEntry(entry: RelayEntry): void;
  onLost(): void;
  over: boolean;
  /** Since when the heartbeat has failed (Redis unreachable); 0 while it works. */
  failingSince: number;
}

/** Handle of one followed stream. */
export interface FollowHandle {
  stop(): void;
}

const BLOCK_MS = 400;
/** How long a lease reads DONE after its answer was stored: longer than a lookup and a claim take. */
const DONE_MS = 2000;
const READ_COUNT = 512;

export class FlightRelay {
  readonly #o: Required<FlightRelayOptions>;
  readonly #base: string;
  readonly #wakeKey: string;
  #wakeId = '0-0';
  readonly #followed = new Map<string, Followed>();
  #reading = false;
  #tick: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: FlightRelayOptions) {
    this.#o = { streamTtlMs: 60_000, maxEntries: 100_000, ...options };
    this.#base = `${options.keyPrefix}{flights}:`;
    this.#wakeKey = `${this.#base}wake:${options.replicaId}`;
  }

  get leaseMs(): number {
    return this.#o.leaseMs;
  }

  /** Become the leader of `key`, or learn whose flight to follow (and count as present in it). */
  async claim(key: string): Promise<Claim> {
    const token = randomBytes(9).toString('base64url');
    const { leaseMs, replicaId } = this.#o;
    const keys = [this.#lease(key), `${this.#base}f:${key}:`, `${this.#base}s:${key}:`];
    const reply = (await this.#o.commands.callBuffer(
      'EVAL',
      CLAIM,
      keys.length,
      ...keys,
      token,
      leaseMs,
      replicaId,
      leaseMs,
      READ_COUNT,
    )) as [number, Buffer, StreamEntries?];
    // 2: the lease expired between SET and GET; try once more.
    if (reply[0] === 2) return this.claim(key);
    if (reply[0] === 3) return { leader: false, stored: true };
    const winner = reply[1].toString();
    return reply[0] === 1 ? { leader: true, token: winner } : { leader: false, token: winner, entries: reply[2] ?? [] };
  }

  /** Append to the flight's stream if `token` still holds the lease; false once it does not. */
  async publish(key: string, token: string, entry: RelayEntry): Promise<boolean> {
    const [type, value] = encode(entry);
    const written = await scripts.publish.run(
      this.#o.commands,
      [this.#lease(key), this.#stream(key, token)],
      [token, this.#o.maxEntries, this.#o.streamTtlMs, type, value],
    );
    return written === 1;
  }

  /** Renew the lease; the number of followers (other replicas) still present, or -1 when the lease is lost. */
  async renew(key: string, token: string): Promise<number> {
    return (await scripts.renew.run(
      this.#o.commands,
      [this.#lease(key), `${this.#base}f:${key}:${token}`],
      [token, this.#o.leaseMs],
    )) as number;
  }

  /**
   * `stored`: the answer was just stored. The lease then reads DONE for a moment instead of going:
   * a caller whose lookup missed just before the entry landed, and who claims just after, is told
   * to look again rather than win the lease and call the upstream a second time.
   */
  async release(key: string, token: string, stored = false): Promise<void> {
    await scripts.release.run(this.#o.commands, [this.#lease(key)], [token, stored ? DONE_MS : 0]);
  }

  /**
   * Read `key`'s flight under `token` from its start: every entry in order, then the live ones.
   * `onLost`: the lease is gone (or changed hands) and the stream holds no end: the leader died.
   */
  follow(
    key: string,
    token: string,
    onEntry: (entry: RelayEntry) => void,
    onLost: () => void,
    /** What the claim read already (taken first, synchronously). */
    entries: StreamEntries = [],
  ): FollowHandle {
    const stream = this.#stream(key, token);
    const followed: Followed = { key, token, stream, lastId: '0-0', onEntry, onLost, over: false, failingSince: 0 };
    this.#followed.set(stream, followed);
    this.#take(followed, entries);
    if (followed.over) return { stop: () => undefined };
    if (this.#reading) {
      // Wake the blocked read so that the next one includes this stream.
      this.#o.commands.xadd(this.#wakeKey, 'MAXLEN', '1', '*', 'w', '1').catch(() => undefined);
    } else {
      void this.#readLoop();
    }
    this.#tick ??= setInterval(() => void this.#heartbeat(), Math.max(50, Math.floor(this.#o.leaseMs / 6)));
    this.#tick.unref();
    let stopped = false;
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (!followed.over) this.#forget(followed);
        // No longer present: the leader may abort once nobody in the fleet listens.
        this.#o.commands.zrem(`${this.#base}f:${key}:${token}`, this.#o.replicaId).catch(() => undefined);
      },
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#tick) clearInterval(this.#tick);
    for (const followed of [...this.#followed.values()]) this.#forget(followed);
  }

  #forget(followed: Followed): void {
    followed.over = true;
    this.#followed.delete(followed.stream);
    if (this.#followed.size === 0 && this.#tick) {
      clearInterval(this.#tick);
      this.#tick = undefined;
    }
  }

  async #readLoop(): Promise<void> {
    this.#reading = true;
    try {
      while (this.#followed.size > 0 && !this.#closed) {
        const followed = [...this.#followed.values()];
        const keys = [this.#wakeKey, ...followed.map((f) => f.stream)];
        const ids = [this.#wakeId, ...followed.map((f) => f.lastId)];
        let reply: unknown;
        try {
          reply = await this.#o.reader.callBuffer('XREAD', 'COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids);
        } catch {
          // The reader's link is down: the heartbeat decides whether the leader is lost.
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        if (reply) this.#deliver(reply as StreamReply);
      }
    } finally {
      this.#reading = false;
    }
  }

  #deliver(reply: StreamReply): void {
    for (const [keyBuffer, entries] of reply) {
      const stream = keyBuffer.toString();
      if (stream === this.#wakeKey) {
        const last = entries[entries.length - 1];
        if (last) this.#wakeId = last[0].toString();
        continue;
      }
      const followed = this.#followed.get(stream);
      if (followed) this.#take(followed, entries);
    }
  }

  #take(followed: Followed, entries: StreamEntries): void {
    for (const [idBuffer, fields] of entries) {
      if (followed.over) return;
      // The heartbeat's catch-up read and the blocking read may both bring an entry: take it once.
      const id = idBuffer.toString();
      if (!after(id, followed.lastId)) continue;
      followed.lastId = id;
      const entry = decode(fields);
      if (!entry) continue;
      const last = entry.type === 'end' || entry.type === 'failed' || entry.type === 'overflow';
      if (last) this.#forget(followed);
      followed.onEntry(entry);
    }
  }

  /** Renew the presence of every followed flight; a lease gone with no end in the stream is a dead leader. */
  async #heartbeat(): Promise<void> {
    const { leaseMs, replicaId } = this.#o;
    await Promise.all(
      [...this.#followed.values()].map(async (followed) => {
        try {
          const alive = await scripts.followTick.run(
            this.#o.commands,
            [this.#lease(followed.key), `${this.#base}f:${followed.key}:${followed.token}`],
            [followed.token, replicaId, leaseMs, leaseMs * 4],
          );
          followed.failingSince = 0;
          if (alive === 1 || followed.over) return;
          // The lease is gone: a leader that ended wrote its end before releasing it, so read what is left first.
          const rest = (await this.#o.commands.callBuffer('XRANGE', followed.stream, `(${followed.lastId}`, '+')) as StreamEntries;
          this.#take(followed, rest);
        } catch {
          // Redis unreachable: the leader cannot be seen alive either; give it the lease's life.
          followed.failingSince ||= Date.now();
          if (Date.now() - followed.failingSince < leaseMs) return;
        }
        if (followed.over) return;
        this.#forget(followed);
        followed.onLost();
      }),
    );
  }

  #lease(key: string): string {
    return `${this.#base}lease:${key}`;
  }

  #stream(key: string, token: string): string {
    return `${this.#base}s:${key}:${token}`;
  }
}

export type StreamEntries = Array<[Buffer, Buffer[]]>;

/** Whether stream id `a` ("ms-seq") comes after `b`. */
function after(a: string, b: string): boolean {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  if (aMs.length !== bMs.length) return aMs.length > bMs.length;
  if (aMs !== bMs) return aMs > bMs;
  return Number(aSeq) > Number(bSeq);
}
type StreamReply = Array<[Buffer, StreamEntries]>;

function encode(entry: RelayEntry): [string, string | Buffer] {
  switch (entry.type) {
    case 'head':
      return ['h', JSON.stringify(entry.head)];
    case 'data':
      return ['d', entry.bytes];
    case 'end':
      return ['e', ''];
    case 'failed':
      return ['f', JSON.stringify(entry.failure)];
    case 'overflow':
      return ['o', ''];
  }
}

function decode(fields: Buffer[]): RelayEntry | undefined {
  let type = '';
  let value: Buffer = Buffer.alloc(0);
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = (fields[i] as Buffer).toString();
    if (name === 't') type = (fields[i + 1] as Buffer).toString();
    else if (name === 'v') value = fields[i + 1] as Buffer;
  }
  switch (type) {
    case 'h':
      return { type: 'head', head: JSON.parse(value.toString()) as RelayHead };
    case 'd':
      return { type: 'data', bytes: value };
    case 'e':
      return { type: 'end' };
    case 'f':
      return { type: 'failed', failure: JSON.parse(value.toString()) as RelayFailure };
    case 'o':
      return { type: 'overflow' };
    default:
      return undefined;
  }
}
