import type { CacheEntry } from '../cache/entry.js';
import { FailOpenStore } from '../cache/fail-open-store.js';
import { MemoryStore } from '../cache/memory-store.js';
import { RedisStore } from '../cache/redis-store.js';
import type { CacheStore, PurgeFilter } from '../cache/store.js';
import { type Flight, FlightRegistry } from '../capture/flight.js';
import type { ProtocolFamily } from '../protocols/types.js';
import { createSemanticLayer } from '../semantic/index.js';
import type { IndexStats } from '../semantic/vector-index.js';
import { CachedStream } from './cached-stream.js';
import { createCachingFetch } from './caching-fetch.js';
import type { CacheCore, FlightLeader } from './core.js';
import type { FetchFunction } from './fetch-flight.js';
import {
  type CallOptions,
  createThroughCache,
  resolveCall,
  type StreamCallOptions,
  streamThroughCache,
} from './generic-calls.js';
import { type ResolvedOptions, type ResponseCacheOptions, resolveOptions } from './options.js';
import { type CacheStats, StatsCounter } from './stats.js';

/**
 * The gateway's cache as a library: the same keys and entry format, so an app and a gateway can
 * share one store. Use it through the SDK wrappers (wrapOpenAI / wrapAnthropic), or directly
 * with getOrStream / getOrCreate around any producer.
 */
export class ResponseCache {
  readonly #core: CacheCore;
  /** getOrCreate calls in flight, so N identical concurrent calls run createFn once. */
  readonly #creating = new Map<string, Promise<unknown>>();

  constructor(options: ResponseCacheOptions = {}) {
    const { store, ...resolved } = resolveOptions(options);
    const chosen = failOpen(store ?? new MemoryStore({ maxEntryBytes: resolved.maxEntryBytes }));
    const flights = new FlightRegistry();
    const leaders = new WeakMap<Flight, FlightLeader>();
    const stats = new StatsCounter(resolved.prices);
    const semantic = createSemanticLayer(resolved.semantic, {
      redis: store instanceof RedisStore ? store : undefined,
      events: { shadowMatch: () => stats.shadowMatch(), embedderError: () => stats.semanticError() },
    });
    this.#core = {
      semantic,
      store: chosen,
      options: resolved,
      stats,
      flights,
      leaders,
      safeGet: async (key) => {
        try {
          return await chosen.get(key);
        } catch {
          return undefined;
        }
      },
      safeSet: async (key: string, entry: CacheEntry) => {
        try {
          return await chosen.set(key, entry);
        } catch {
          return false;
        }
      },
    };
  }

  /** The validated options in effect. */
  get options(): Readonly<ResolvedOptions> {
    return this.#core.options;
  }

  get store(): CacheStore {
    return this.#core.store;
  }

  /**
   * Cache any stream of chunks. On a miss the chunks of `streamFn()` are yielded live and
   * stored only if the stream completed (no throw, no early `break`); on a hit they are replayed.
   */
  getOrStream<T, V = T[]>(
    messages: unknown,
    streamFn: () => AsyncIterable<T>,
    options: StreamCallOptions<T, V>,
  ): CachedStream<T, V> {
    const call = resolveCall(this.#core, 'stream', messages, options);
    const pacing = options.replay ?? this.#core.options.replay;
    const joiner = options.chunkJoiner ?? ((chunks: T[]) => chunks as unknown as V);
    return new CachedStream<T, V>(
      (report) => streamThroughCache(this.#core, call, streamFn, pacing, report),
      joiner,
    );
  }

  /** Cache a non-stream result: the stored value, or createFn's result (stored once it resolved). */
  async getOrCreate<T>(messages: unknown, createFn: () => Promise<T>, options: CallOptions<T>): Promise<T> {
    const call = resolveCall(this.#core, 'create', messages, options);
    const pending = call.read ? this.#creating.get(call.key) : undefined;
    if (pending) {
      this.#core.stats.coalesce();
      return pending as Promise<T>;
    }
    const created = createThroughCache(this.#core, call, createFn);
    if (!call.read) return created;
    this.#creating.set(call.key, created);
    try {
      return await created;
    } finally {
      this.#creating.delete(call.key);
    }
  }

  /** Purge entries (and their semantic candidates); returns how many entries were removed. */
  async invalidate(filter: PurgeFilter): Promise<number> {
    const removed = await this.#core.store.purge(filter);
    await this.#core.semantic.purge(filter);
    return removed;
  }

  stats(): CacheStats {
    return this.#core.stats.snapshot();
  }

  /** The in-process semantic index: partitions, rows and bytes (all 0 while `semantic` is off). */
  semanticStats(): IndexStats {
    return this.#core.semantic.stats();
  }

  /**
   * A fetch for an SDK whose base URL is `baseURL` (as the SDK's `baseURL` option: OpenAI's
   * includes /v1). The wrappers use it; use it directly for other fetch-based clients.
   */
  fetchFor(
    family: ProtocolFamily,
    baseURL: string,
    realFetch: FetchFunction = globalThis.fetch,
  ): FetchFunction {
    return createCachingFetch(this.#core, family, baseURL, realFetch);
  }

  /** Closes the store (a RedisStore's connection) and the semantic layer's. */
  async close(): Promise<void> {
    await this.#core.semantic.close();
    await this.#core.store.close();
  }
}

/** DESIGN.md rule 5: a Redis store that errors or stalls must be a miss, never a failed call. */
function failOpen(store: CacheStore): CacheStore {
  return store instanceof RedisStore ? new FailOpenStore(store) : store;
}
