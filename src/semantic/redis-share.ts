import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RedisClient } from '../cache/redis-store.js';
import type { PurgeFilter } from '../cache/store.js';
import type { IndexRow } from './types.js';
import type { VectorIndex } from './vector-index.js';

/**
 * Shares semantic rows between replicas through the Redis the exact cache already uses (Redis 7
 * has no vector search, so the vectors travel to each replica and are indexed there).
 *
 * Layout, with the partition as a hash tag so that one partition lives in one cluster slot:
 *   <prefix>sem:{<partition>}:r:<key>   one row (metadata + vector), PX = the entry's remaining TTL
 *   <prefix>sem:{<partition>}:p         set of the keys with a row, TTL >= its longest-lived row
 *   <prefix>sem:feed                    Redis Stream of changes (row added: partition + key; purge:
 *                                       the filter), trimmed to about `feedLength` entries
 *   <prefix>sem:events                  pub/sub channel: "the feed has news", for low latency only
 *
 * A replica loads a partition the first time it looks inside it, then follows the feed from the
 * last entry it applied: on a pub/sub nudge, every `pollMs`, and after a reconnect. A replica
 * that was away longer than the feed is long (its last entry was trimmed) cannot know what it
 * missed: it drops every partition it holds, and each is loaded again on its next use. A row
 * whose entry is gone is harmless: a hit is only served after the exact entry is read back.
 */
export interface RedisShareOptions {
  /** Connection for commands (a duplicate of the store's, fail-fast). */
  commands: RedisClient;
  /** Connection used only for SUBSCRIBE. */
  subscriber: RedisClient;
  keyPrefix: string;
  onError?: (operation: string, err: Error) => void;
  /** Partitions remembered as loaded. Default 10,000. */
  maxLoadedPartitions?: number;
  /** Rows read when loading one partition. Default 100,000. */
  maxRowsPerLoad?: number;
  /** Entries the change feed keeps (approximately). Default 100,000 (~10 MB of Redis). */
  feedLength?: number;
  /** How often the feed is read without a nudge. Default 1000 ms. */
  pollMs?: number;
}

interface WireRow {
  k: string;
  n: string;
  t: string[];
  e: number;
  v: string;
  /** base64 of the float32 vector, little-endian. */
  x: string;
}

type Change = { o: string; op: 'add'; p: string; k: string } | { o: string; op: 'purge'; f: PurgeFilter };

const LOAD_BATCH = 200;
const FEED_BATCH = 500;

export class RedisShare {
  readonly #options: RedisShareOptions;
  readonly #index: VectorIndex;
  readonly #origin = randomUUID();
  readonly #channel: string;
  readonly #feed: string;
  readonly #loaded: LRUCache<string, Promise<void>>;
  readonly #poll: NodeJS.Timeout;
  /** The last feed entry applied here; undefined until the feed's end was read at start. */
  #lastId: string | undefined;
  #reading: Promise<void> | undefined;
  #readAgain = false;
  #closed = false;

  constructor(options: RedisShareOptions, index: VectorIndex) {
    this.#options = options;
    this.#index = index;
    this.#channel = `${options.keyPrefix}sem:events`;
    this.#feed = `${options.keyPrefix}sem:feed`;
    this.#loaded = new LRUCache({ max: options.maxLoadedPartitions ?? 10_000 });
    const { subscriber, commands } = options;
    const ignore = (err: Error) => this.#options.onError?.('connection', err);
    commands.on('error', ignore);
    subscriber.on('error', ignore);
    subscriber.on('ready', () => {
      subscriber.subscribe(this.#channel).catch((err: Error) => this.#options.onError?.('subscribe', err));
      // Whatever was published while we were away is in the feed.
      void this.catchUp();
    });
    subscriber.on('message', (channel: string) => {
      if (channel === this.#channel) void this.catchUp();
    });
    commands.on('ready', () => void this.catchUp());
    this.#poll = setInterval(() => void this.catchUp(), options.pollMs ?? 1000);
    this.#poll.unref();
  }

  /**
   * Resolves once the partition's rows from Redis are in the local index (at once when already
   * loaded). Never rejects: a failed load is forgotten and tried again next time.
   */
  ensureLoaded(partition: string): Promise<void> {
    let loading = this.#loaded.get(partition);
    if (!loading) {
      loading = this.#load(partition).catch((err: Error) => {
        this.#loaded.delete(partition);
        this.#options.onError?.('load', err);
      });
      this.#loaded.set(partition, loading);
    }
    return loading;
  }

  /** Store the row beside the entry and tell the other replicas. */
  async publishAdd(partition: string, row: IndexRow): Promise<void> {
    const ttl = Math.ceil(row.expiresAt - Date.now());
    if (ttl <= 0) return;
    const { commands } = this.#options;
    const set = this.#setKey(partition);
    await commands
      .multi()
      .set(this.#rowKey(partition, row.key), JSON.stringify(toWire(row)), 'PX', ttl)
      .sadd(set, row.key)
      .pexpire(set, ttl, 'NX')
      .pexpire(set, ttl, 'GT')
      .exec();
    await this.#append({ o: this.#origin, op: 'add', p: partition, k: row.key });
  }

  /** Tell the other replicas to drop matching rows; a row for a purged key goes from Redis too. */
  async publishPurge(filter: PurgeFilter, partitionOfKey?: string): Promise<void> {
    if ('key' in filter && partitionOfKey !== undefined) {
      await this.#options.commands.unlink(this.#rowKey(partitionOfKey, filter.key));
    }
    await this.#append({ o: this.#origin, op: 'purge', f: filter });
  }

  /** A row whose entry is gone (evicted, expired, purged on a replica that had not loaded it): drop it from Redis. */
  async forget(partition: string, key: string): Promise<void> {
    await this.#options.commands
      .multi()
      .unlink(this.#rowKey(partition, key))
      .srem(this.#setKey(partition), key)
      .exec();
  }

  /**
   * Applies the feed's entries after the last one applied here. One read at a time; a call
   * during a read makes it read once more. Never rejects.
   */
  catchUp(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#reading) {
      this.#readAgain = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#readAgain = false;
        await this.#readFeed().catch((err: Error) => this.#options.onError?.('feed', err));
      } while (this.#readAgain && !this.#closed);
    })().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    await Promise.all(
      [this.#options.subscriber, this.#options.commands].map((c) => c.quit().catch(() => c.disconnect())),
    );
  }

  async #append(change: Change): Promise<void> {
    const { commands } = this.#options;
    const id = await commands.xadd(this.#feed, 'MAXLEN', '~', this.#options.feedLength ?? 100_000, '*', 'c', JSON.stringify(change));
    await commands.publish(this.#channel, id ?? '');
  }

  async #readFeed(): Promise<void> {
    const { commands } = this.#options;
    if (this.#lastId === undefined) {
      // At start nothing is loaded: partitions come from Redis as they are, the feed from its end on.
      const last = await commands.xrevrange(this.#feed, '+', '-', 'COUNT', 1);
      this.#lastId = last[0]?.[0] ?? '0-0';
      return;
    }
    for (;;) {
      const entries = await commands.xrange(this.#feed, `(${this.#lastId}`, '+', 'COUNT', FEED_BATCH);
      if (entries.length === 0) return;
      if (this.#lastId !== '0-0' && !(await this.#stillInFeed(this.#lastId))) this.#reloadAll();
      await this.#apply(entries);
      this.#lastId = entries[entries.length - 1]?.[0] as string;
      if (entries.length < FEED_BATCH) return;
    }
  }

  /**
   * Whether the feed still holds `lastId`, so nothing after it was trimmed. (When it was trimmed
   * we cannot tell whether entries after it went too, and assume they did.)
   */
  async #stillInFeed(lastId: string): Promise<boolean> {
    const oldest = (await this.#options.commands.xrange(this.#feed, '-', '+', 'COUNT', 1))[0]?.[0];
    return oldest === undefined || compareIds(oldest, lastId) <= 0;
  }

  /** We cannot know what we missed: forget every partition held here; each loads again on next use. */
  #reloadAll(): void {
    for (const partition of [...this.#loaded.keys()]) void this.#index.dropPartition(partition);
    this.#loaded.clear();
  }

  async #apply(entries: Array<[string, string[]]>): Promise<void> {
    let adds: Array<{ p: string; k: string }> = [];
    const flush = async () => {
      if (adds.length > 0) await this.#fetchRows(adds);
      adds = [];
    };
    for (const [, fields] of entries) {
      const change = parseChange(fields);
      if (!change || change.o === this.#origin) continue;
      if (change.op === 'purge') {
        await flush();
        await this.#index.purge(change.f);
      } else if (this.#loaded.has(change.p)) {
        // A partition nobody here has looked into yet is loaded from Redis when first needed.
        adds.push({ p: change.p, k: change.k });
      }
    }
    await flush();
  }

  async #fetchRows(adds: Array<{ p: string; k: string }>): Promise<void> {
    for (let i = 0; i < adds.length; i += LOAD_BATCH) {
      const batch = adds.slice(i, i + LOAD_BATCH);
      // One GET per row (rows of different partitions live in different cluster slots).
      const texts = await Promise.all(batch.map(({ p, k }) => this.#options.commands.get(this.#rowKey(p, k))));
      for (let j = 0; j < batch.length; j++) {
        const text = texts[j];
        const row = text ? fromWire(text) : undefined;
        if (row) await this.#index.add((batch[j] as { p: string }).p, row);
      }
    }
  }

  async #load(partition: string): Promise<void> {
    const { commands } = this.#options;
    const members = await commands.smembers(this.#setKey(partition));
    const limit = this.#options.maxRowsPerLoad ?? 100_000;
    const keys = members.slice(-limit);
    const gone: string[] = [];
    for (let i = 0; i < keys.length; i += LOAD_BATCH) {
      const batch = keys.slice(i, i + LOAD_BATCH);
      const texts = await commands.mget(...batch.map((key) => this.#rowKey(partition, key)));
      for (let j = 0; j < batch.length; j++) {
        const text = texts[j];
        const row = text ? fromWire(text) : undefined;
        if (row) await this.#index.add(partition, row);
        else gone.push(batch[j] as string);
      }
    }
    if (gone.length > 0) await commands.srem(this.#setKey(partition), ...gone);
  }

  #setKey(partition: string): string {
    return `${this.#options.keyPrefix}sem:{${partition}}:p`;
  }

  #rowKey(partition: string, key: string): string {
    return `${this.#options.keyPrefix}sem:{${partition}}:r:${key}`;
  }
}

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

function parseChange(fields: string[]): Change | undefined {
  const at = fields.indexOf('c');
  try {
    const change = JSON.parse(fields[at + 1] ?? '') as Change;
    if (change.op === 'add' && typeof change.p === 'string' && typeof change.k === 'string') return change;
    if (change.op === 'purge' && typeof change.f === 'object' && change.f !== null) return change;
  } catch {
    // An entry we cannot read changes nothing.
  }
  return undefined;
}

function toWire(row: IndexRow): WireRow {
  const bytes = Buffer.from(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength);
  return { k: row.key, n: row.namespace, t: row.tags, e: row.expiresAt, v: row.veto, x: bytes.toString('base64') };
}

function fromWire(text: string): IndexRow | undefined {
  try {
    return fromWireObject(JSON.parse(text) as WireRow);
  } catch {
    return undefined;
  }
}

function fromWireObject(wire: WireRow): IndexRow | undefined {
  if (typeof wire?.k !== 'string' || typeof wire.x !== 'string' || typeof wire.e !== 'number') return undefined;
  const bytes = Buffer.from(wire.x, 'base64');
  if (bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) return undefined;
  const vector = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return {
    key: wire.k,
    namespace: String(wire.n),
    tags: Array.isArray(wire.t) ? wire.t.map(String) : [],
    expiresAt: wire.e,
    veto: String(wire.v),
    vector,
  };
}
