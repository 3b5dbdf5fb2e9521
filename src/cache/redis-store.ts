import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type CacheEntry, remainingTtlMs } from './entry.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import { type EntryLister, listEntries } from './redis-list.js';
import {
  type CacheStore,
  type EntryPage,
  IncompletePurgeError,
  type ListQuery,
  type PurgeFilter,
  type PurgeOptions,
  StoreError,
} from './store.js';
import { DEFAULTS } from '../defaults.js';
import { SluiceError } from '../errors.js';

export interface RedisStoreOptions {
  /** Standalone server, e.g. "redis://:pass@host:6379/0" or "rediss://..." for TLS. */
  url?: string;
  /** Redis Cluster seed nodes, "host:port" or URLs; credentials in the first URL apply to all. */
  cluster?: { nodes: string[] };
  sentinel?: { sentinels: { host: string; port: number }[]; name: string };
  /** An existing client. The store attaches an error listener but never closes a client it did not create. */
  client?: Redis | Cluster;
  /** Prefix of every key this store writes, so several apps can share one Redis. Default "sluice:". */
  keyPrefix?: string;
  /** Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Default 1000 ms. Callers that need tighter bounds wrap the store in FailOpenStore. */
  commandTimeoutMs?: number;
  /** Entries whose encoded size is larger are skipped (set returns false). Default 8 MiB. */
  maxEntryBytes?: number;
}

export type RedisClient = Redis | Cluster;
type Client = RedisClient;
type ErrorCode = StoreError['code'];

/**
 * Keys per purge batch: one SCAN/SSCAN and one UNLINK of this many small keys each hold Redis
 * for well under a millisecond (UNLINK frees large values in a background thread).
 */
const PURGE_BATCH = 1000;
const QUIT_GRACE_MS = 500;

/**
 * The shared L2 tier. Entries are `encodeEntry` bytes under `<prefix>e:<key>` with a PX TTL.
 * Purge by namespace or tag must not scan the keyspace, so every write also adds its key to
 * `<prefix>ns:<namespace>` and `<prefix>tag:<tag>` sets whose TTL never falls below their
 * longest-lived member; a member whose entry has expired is harmless (UNLINK counts 0).
 *
 * Known limitation: overwriting a key with a different namespace or tags leaves the key in the
 * old index sets, so purging the old namespace/tag also removes the newer entry.
 *
 * Errors are thrown as StoreError (STORE_TIMEOUT, STORE_UNAVAILABLE, STORE_FAILED,
 * STORE_CORRUPT_ENTRY) and never logged here; FailOpenStore turns them into misses.
 */
export class RedisStore implements CacheStore {
  readonly name = 'redis';
  readonly #client: Client;
  #adminClient: Client | undefined;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #maxEntryBytes: number;
  readonly #connectTimeoutMs: number;
  #lastError: Error | undefined;

  constructor(options: RedisStoreOptions = {}) {
    const sources = (['url', 'cluster', 'sentinel', 'client'] as const).filter(
      (field) => options[field] !== undefined,
    );
    if (sources.length > 1) {
      throw new SluiceError(
        'INVALID_OPTION',
        `RedisStore: give only one of url, cluster, sentinel, client (got ${sources.join(', ')})`,
        { field: sources[1] },
      );
    }
    this.#prefix = options.keyPrefix ?? 'sluice:';
    this.#maxEntryBytes = options.maxEntryBytes ?? DEFAULTS.maxEntryBytes;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    checkPositive('connectTimeoutMs', this.#connectTimeoutMs);
    checkPositive('commandTimeoutMs', options.commandTimeoutMs ?? 1000);
    checkPositive('maxEntryBytes', this.#maxEntryBytes);

    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? createClient(options, this.#connectTimeoutMs);
    // An 'error' event without a listener would crash the process; the cause surfaces as a
    // StoreError on the next command instead.
    const remember = (err: Error) => {
      this.#lastError = err;
    };
    this.#client.on('error', remember);
    if (this.#client instanceof Cluster) this.#client.on('node error', remember);
  }

  /** The key prefix of this store, for companions (the semantic index) that keep keys beside its entries. */
  get keyPrefix(): string {
    return this.#prefix;
  }

  /** The store's own client, for companions in the cache layer (the coherence links follow its topology). */
  get client(): Client {
    return this.#client;
  }

  /**
   * A second connection, for admin work (purges, listings) and the fleet's figures: a purge's
   * batches or a 1,000-command read queued on the live connection would hold live GETs behind
   * them past their 50 ms budget and trip the breaker. Made on first use, closed with the store.
   */
  get adminClient(): Client {
    if (this.#adminClient === undefined) {
      this.#adminClient = this.#client.duplicate();
      // Its errors surface as failed admin commands; an unhandled 'error' event would crash.
      this.#adminClient.on('error', () => undefined);
    }
    return this.#adminClient;
  }

  /** A new connection to the same server(s) with the same options, for a companion that needs its own (pub/sub). */
  duplicateClient(): Client {
    return this.#client.duplicate();
  }

  /** Connected right now (ioredis status "ready"); false while connecting or reconnecting. */
  get connected(): boolean {
    return this.#client.status === 'ready';
  }

  get isCluster(): boolean {
    return this.#client instanceof Cluster;
  }

  /**
   * Resolves once connected. Optional: commands fail fast (STORE_UNAVAILABLE) until then, which
   * a fail-open cache treats as misses. Useful at start-up and in tests.
   */
  async ready(timeoutMs = this.#connectTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#client.status !== 'ready') {
      if (this.#client.status === 'end') throw new StoreError('STORE_UNAVAILABLE', 'redis client is closed');
      if (Date.now() >= deadline) {
        const reason = this.#lastError ? `: ${this.#lastError.message}` : '';
        throw new StoreError('STORE_UNAVAILABLE', `redis not ready after ${timeoutMs} ms${reason}`, {
          cause: this.#lastError,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const bytes = await this.#run('get', () => this.#client.getBuffer(this.#entryKey(key)));
    if (bytes === null) return undefined;
    const entry = decodeEntry(bytes);
    // Redis expiry has ms precision but clocks of writers may differ; the entry decides.
    return remainingTtlMs(entry) > 0 ? entry : undefined;
  }

  async set(key: string, entry: CacheEntry): Promise<boolean> {
    const ttlMs = Math.ceil(remainingTtlMs(entry));
    if (ttlMs <= 0) return false;
    const bytes = encodeEntry(entry);
    if (bytes.byteLength > this.#maxEntryBytes) return false;
    const entryKey = this.#entryKey(key);
    const indexKeys = [
      this.#namespaceKey(entry.namespace),
      ...new Set(entry.tags.map((tag) => this.#tagKey(tag))),
    ];

    await this.#run('set', async () => {
      if (this.#client instanceof Cluster) {
        // Entry and index keys hash to different slots: one command per key, in parallel.
        const client = this.#client;
        await Promise.all([
          client.set(entryKey, bytes, 'PX', ttlMs),
          ...indexKeys.map(async (indexKey) => {
            await client.sadd(indexKey, key);
            await extendTtl(client, indexKey, ttlMs);
          }),
        ]);
        return;
      }
      // Standalone: entry and index updates land together in one MULTI.
      const tx = this.#client.multi().set(entryKey, bytes, 'PX', ttlMs);
      for (const indexKey of indexKeys) {
        // NX gives a fresh set its first TTL (GT ignores keys without one); GT only ever extends it.
        tx.sadd(indexKey, key).pexpire(indexKey, ttlMs, 'NX').pexpire(indexKey, ttlMs, 'GT');
      }
      throwFirstReplyError(await tx.exec());
    });
    return true;
  }

  /**
   * In batches (SSCAN of the namespace or tag index, or SCAN of the prefix on every master, then
   * UNLINK), so Redis is never held for long and the purge can stop between two batches at
   * `options.deadline`: then, or on an error after some batches, IncompletePurgeError says how
   * many entries were removed.
   */
  async purge(filter: PurgeFilter, options: PurgeOptions = {}): Promise<number> {
    const admin = await this.#adminReady();
    if ('key' in filter) return this.#run('purge', () => admin.unlink(this.#entryKey(filter.key)));
    const progress: PurgeProgress = { removed: 0, deadline: options.deadline, stopped: false };
    try {
      if ('all' in filter) await this.#purgeAll(admin, progress);
      else
        await this.#purgeIndex(
          admin,
          'namespace' in filter ? this.#namespaceKey(filter.namespace) : this.#tagKey(filter.tag),
          progress,
        );
      return progress.removed;
    } catch (err) {
      progress.stopped = true;
      if (err instanceof IncompletePurgeError || progress.removed === 0) throw toStoreError('purge', err);
      const cause = toStoreError('purge', err);
      throw new IncompletePurgeError(progress.removed, false, `${cause.message} (after removing ${progress.removed} entries)`, {
        cause,
      });
    }
  }

  /**
   * By namespace or tag: SSCAN of that index set. Otherwise SCAN of the entry keys on every
   * master, never KEYS. Only each entry's header is read (GETRANGE), never its body.
   */
  async list(query: ListQuery): Promise<EntryPage> {
    const client = await this.#adminReady();
    const lister: EntryLister = {
      prefix: this.#entryKey(''),
      masters: () => (client instanceof Cluster ? client.nodes('master') : [client]),
      client,
      indexKey:
        query.namespace !== undefined
          ? this.#namespaceKey(query.namespace)
          : query.tag !== undefined
            ? this.#tagKey(query.tag)
            : undefined,
      entryPattern: `${escapeGlob(this.#entryKey(''))}*`,
    };
    return this.#run('list', () => listEntries(lister, query));
  }

  async close(): Promise<void> {
    this.#adminClient?.disconnect();
    if (!this.#ownsClient || this.#client.status === 'end') return;
    if (this.#client.status !== 'ready') {
      this.#client.disconnect();
      return;
    }
    // QUIT lets pending replies arrive; if the server stops answering, do not wait for it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#client.quit().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, QUIT_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    this.#client.disconnect();
  }

  /** The admin connection once connected (STORE_UNAVAILABLE if it does not connect in time). */
  async #adminReady(): Promise<Client> {
    const admin = this.adminClient;
    // Redis itself unreachable: fail fast, as the live connection does.
    if (admin.status !== 'ready' && this.#client.status !== 'ready') {
      throw new StoreError('STORE_UNAVAILABLE', `redis is not connected (${this.#client.status})`);
    }
    const deadline = Date.now() + this.#connectTimeoutMs;
    while (admin.status !== 'ready') {
      if (admin.status === 'end' || Date.now() >= deadline) {
        throw new StoreError('STORE_UNAVAILABLE', `redis admin connection not ready (${admin.status})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return admin;
  }

  #entryKey(key: string): string {
    return `${this.#prefix}e:${key}`;
  }

  #namespaceKey(namespace: string): string {
    return `${this.#prefix}ns:${namespace}`;
  }

  #tagKey(tag: string): string {
    return `${this.#prefix}tag:${tag}`;
  }

  /**
   * Each batch's members leave the index (SREM) before their entries are unlinked, and the index
   * itself is never deleted: an entry written meanwhile keeps its membership, so a later purge
   * still finds it (deleting the whole set at the end would drop it). SREM first: a write landing
   * between the two commands leaves a stale member (harmless), never an unindexed entry.
   */
  async #purgeIndex(client: Client, indexKey: string, progress: PurgeProgress): Promise<void> {
    let cursor = '0';
    do {
      checkDeadline(progress);
      const [next, members] = await client.sscan(indexKey, cursor, 'COUNT', PURGE_BATCH);
      cursor = next;
      if (members.length === 0) continue;
      await client.srem(indexKey, ...members);
      const removed = await this.#unlinkAll(
        client,
        members.map((member) => this.#entryKey(member)),
      );
      progress.removed += removed;
    } while (cursor !== '0');
  }

  /** SCAN + UNLINK everything under the prefix on every master; counts entries, not index sets. */
  async #purgeAll(client: Client, progress: PurgeProgress): Promise<void> {
    const masters = client instanceof Cluster ? client.nodes('master') : [client];
    const pattern = `${escapeGlob(this.#prefix)}*`;
    const entryPrefix = this.#entryKey('');
    await Promise.all(
      masters.map(async (node) => {
        let cursor = '0';
        do {
          checkDeadline(progress);
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', PURGE_BATCH);
          cursor = next;
          const entryKeys = keys.filter((key) => key.startsWith(entryPrefix));
          const otherKeys = keys.filter((key) => !key.startsWith(entryPrefix));
          // Not `removed += await`: that reads the sum before the await, and the masters run at once.
          const removed = await this.#unlinkAll(node, entryKeys);
          progress.removed += removed;
          await this.#unlinkAll(node, otherKeys);
        } while (cursor !== '0');
      }),
    );
  }

  /** Cluster nodes refuse multi-key commands across slots, even for slots they own. */
  async #unlinkAll(client: Client, keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (!this.isCluster) return client.unlink(...keys);
    const counts = await Promise.all(keys.map((key) => client.unlink(key)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async #run<T>(op: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw toStoreError(op, err);
    }
  }
}

interface PurgeProgress {
  removed: number;
  deadline: number | undefined;
  /** Set when one master's loop failed, so the others stop at their next batch too. */
  stopped: boolean;
}

function checkDeadline(progress: PurgeProgress): void {
  if (progress.stopped) throw new StoreError('STORE_FAILED', 'purge stopped: another batch failed');
  if (progress.deadline !== undefined && Date.now() >= progress.deadline) {
    throw new IncompletePurgeError(
      progress.removed,
      true,
      `redis purge reached its time limit after removing ${progress.removed} entries`,
    );
  }
}

function createClient(options: RedisStoreOptions, connectTimeoutMs: number): Client {
  const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000);
  const common = {
    connectTimeout: connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    // Fail fast while disconnected: a cache miss now beats a request queued for seconds.
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
  } satisfies RedisOptions;

  if (options.cluster !== undefined) {
    const nodes = options.cluster.nodes.map(parseNode);
    const first = nodes[0];
    if (first === undefined)
      throw new SluiceError('INVALID_OPTION', 'RedisStore option "cluster.nodes" must list at least one node', {
        field: 'cluster.nodes',
      });
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      redisOptions: {
        ...common,
        ...(first.username === undefined ? {} : { username: first.username }),
        ...(first.password === undefined ? {} : { password: first.password }),
        ...(first.tls ? { tls: {} } : {}),
      },
    };
    return new Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      clusterOptions,
    );
  }
  const standalone: RedisOptions = { ...common, enableOfflineQueue: false, retryStrategy };
  if (options.sentinel !== undefined) {
    return new Redis({
      ...standalone,
      sentinels: options.sentinel.sentinels,
      name: options.sentinel.name,
      sentinelRetryStrategy: retryStrategy,
    });
  }
  return new Redis(options.url ?? 'redis://127.0.0.1:6379', standalone);
}

interface NodeAddress {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

function parseNode(node: string): NodeAddress {
  let url: URL;
  try {
    url = new URL(node.includes('://') ? node : `redis://${node}`);
  } catch {
    throw new SluiceError(
      'INVALID_OPTION',
      `RedisStore option "cluster.nodes": cannot parse "${node}" (use host:port or a URL)`,
      { field: 'cluster.nodes' },
    );
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    tls: url.protocol === 'rediss:',
  };
}

async function extendTtl(client: Client, key: string, ttlMs: number): Promise<void> {
  await client.pexpire(key, ttlMs, 'NX');
  await client.pexpire(key, ttlMs, 'GT');
}

function throwFirstReplyError(results: [error: Error | null, result: unknown][] | null): void {
  if (results === null) throw new StoreError('STORE_FAILED', 'redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

const UNAVAILABLE_PATTERNS = [
  /enableOfflineQueue/,
  /Connection is closed/,
  /isn't ready/,
  /max retries per request/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/,
  /None of startup nodes is available/,
  /Failed to refresh slots cache/,
  /^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|READONLY)\b/,
];

function toStoreError(op: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  let code: ErrorCode = 'STORE_FAILED';
  if (/timed out/i.test(message)) code = 'STORE_TIMEOUT';
  else if (UNAVAILABLE_PATTERNS.some((pattern) => pattern.test(message))) code = 'STORE_UNAVAILABLE';
  return new StoreError(code, `redis ${op} failed: ${message}`, { cause: err });
}

function checkPositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new SluiceError(
      'INVALID_OPTION',
      `RedisStore option "${field}" must be a positive number, got ${String(value)}`,
      { field },
    );
  }
}
