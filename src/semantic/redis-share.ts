import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RedisClient } from '../cache/redis-store.js';
import type { PurgeFilter } from '../cache/store.js';
import type { IndexRow } from './types.js';
import type { VectorIndex } from './vector-index.js';

/**
 * Shares semantic rows between replicas through the Redis the exact cache already uses (Redis 7
 * has no vector search, so the vectors travel to each replica and are scanned there).
 *
 * Layout, with the partition as a hash tag so that one partition lives in one cluster slot:
 *   <prefix>sem:{<partition>}:r:<key>   one row (metadata + vector), PX = the entry's remaining TTL
 *   <prefix>sem:{<partition>}:p         set of the keys with a row, TTL >= its longest-lived row
 *   <prefix>sem:events                  pub/sub channel: rows added, purges
 *
 * A replica loads a partition the first time it looks inside it, then follows new rows
 * through the channel. After a reconnect it may have missed messages, so every partition is
 * loaded again on next use. A row whose entry is gone is harmless: a hit is only served after
 * the exact entry is read back from the store, and such rows expire with their entries.
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
  /** Rows read when loading one partition. Default 10,000. */
  maxRowsPerLoad?: number;
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

type Message = { o: string; op: 'add'; p: string; r: WireRow } | { o: string; op: 'purge'; f: PurgeFilter };

const LOAD_BATCH = 200;

export class RedisShare {
  readonly #options: RedisShareOptions;
  readonly #index: VectorIndex;
  readonly #origin = randomUUID();
  readonly #channel: string;
  readonly #loaded: LRUCache<string, Promise<void>>;
  #closed = false;

  constructor(options: RedisShareOptions, index: VectorIndex) {
    this.#options = options;
    this.#index = index;
    this.#channel = `${options.keyPrefix}sem:events`;
    this.#loaded = new LRUCache({ max: options.maxLoadedPartitions ?? 10_000 });
    const { subscriber, commands } = options;
    const ignore = (err: Error) => this.#options.onError?.('connection', err);
    commands.on('error', ignore);
    subscriber.on('error', ignore);
    subscriber.on('ready', () => {
      // Whatever was published while we were away is unknown: load partitions again on next use.
      this.#loaded.clear();
      subscriber.subscribe(this.#channel).catch((err: Error) => this.#options.onError?.('subscribe', err));
    });
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#channel) this.#receive(text);
    });
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
    const wire = toWire(row);
    const text = JSON.stringify(wire);
    const { commands } = this.#options;
    const set = this.#setKey(partition);
    await commands
      .multi()
      .set(this.#rowKey(partition, row.key), text, 'PX', ttl)
      .sadd(set, row.key)
      .pexpire(set, ttl, 'NX')
      .pexpire(set, ttl, 'GT')
      .exec();
    const message: Message = { o: this.#origin, op: 'add', p: partition, r: wire };
    await commands.publish(this.#channel, JSON.stringify(message));
  }

  /** Tell the other replicas to drop matching rows; a row for a purged key goes from Redis too. */
  async publishPurge(filter: PurgeFilter, partitionOfKey?: string): Promise<void> {
    const { commands } = this.#options;
    if ('key' in filter && partitionOfKey !== undefined) {
      await commands.unlink(this.#rowKey(partitionOfKey, filter.key));
    }
    const message: Message = { o: this.#origin, op: 'purge', f: filter };
    await commands.publish(this.#channel, JSON.stringify(message));
  }

  /** A row whose entry is gone (evicted, expired, purged on a replica that had not loaded it): drop it from Redis. */
  async forget(partition: string, key: string): Promise<void> {
    await this.#options.commands
      .multi()
      .unlink(this.#rowKey(partition, key))
      .srem(this.#setKey(partition), key)
      .exec();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      [this.#options.subscriber, this.#options.commands].map((c) => c.quit().catch(() => c.disconnect())),
    );
  }

  async #load(partition: string): Promise<void> {
    const { commands } = this.#options;
    const members = await commands.smembers(this.#setKey(partition));
    const limit = this.#options.maxRowsPerLoad ?? 10_000;
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

  #receive(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message.o === this.#origin) return;
    if (message.op === 'purge') {
      void this.#index.purge(message.f);
      return;
    }
    // A partition nobody here has looked into yet is loaded from Redis when first needed.
    if (!this.#loaded.has(message.p)) return;
    const row = fromWireObject(message.r);
    if (row) void this.#index.add(message.p, row);
  }

  #setKey(partition: string): string {
    return `${this.#options.keyPrefix}sem:{${partition}}:p`;
  }

  #rowKey(partition: string, key: string): string {
    return `${this.#options.keyPrefix}sem:{${partition}}:r:${key}`;
  }
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
