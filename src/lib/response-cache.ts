import { DEFAULT_MAX_JSON_DEPTH } from '../protocols/json-body.js';
import { RequestMemo } from '../protocols/request-memo.js';
import { MemoryStore } from '../cache/memory-store.js';
import { RedisStore } from '../cache/redis-store.js';
import type { CacheStore, PurgeFilter } from '../cache/store.js';
import { Engine } from '../engine/engine.js';
import { failOpenTiers } from '../engine/stores.js';
import type { ProtocolFamily } from '../protocols/types.js';
import { createSemanticLayer } from '../semantic/index.js';
import type { IndexStats } from '../semantic/vector-index.js';
import { CachedStream } from './cached-stream.js';
import { createCachingFetch } from './caching-fetch.js';
import type { LibraryCore } from './core.js';
import type { FetchFunction } from './fetch-port.js';
import {
  type CallOptions,
  createThroughCache,
  type GenericCacheStatus,
  resolveCall,
  type StreamCallOptions,
  type StreamProducer,
  streamThroughCache,
} from './generic-calls.js';
import { type ResolvedOptions, type ResponseCacheOptions, resolveOptions } from './options.js';
import { type CacheStats, StatsCounter } from './stats.js';

/**
 * The gateway's cache as a library: the same engine, keys and entry format, so an app and a
 * gateway can share one store. Use it through the SDK wrappers (wrapOpenAI / wrapAnthropic), or
 * directly with getOrStream / getOrCreate around any producer.
 */
export class ResponseCache {
  readonly #core: LibraryCore;

  constructor(options: ResponseCacheOptions = {}) {
    const { store, ...resolved } = resolveOptions(options);
    const chosen = store ?? new MemoryStore({ maxEntryBytes: resolved.maxEntryBytes });
    const stats = new StatsCounter(resolved.prices);
    const semantic = createSemanticLayer(resolved.semantic, {
      redis: chosen instanceof RedisStore ? chosen : undefined,
      events: { shadowMatch: () => stats.shadowMatch(), embedderError: () => stats.semanticError() },
    });
    const engine = new Engine({
      semantic,
      config: resolved,
      // As in the gateway: forms derived on hits get a quarter of the memory budget.
      ...(chosen instanceof MemoryStore ? { derivedMaxBytes: Math.max(1, Math.floor(chosen.maxBytes / 4)) } : {}),
      // DESIGN.md rule 5 for any store, custom ones included: bounded and breaker-guarded.
      store: failOpenTiers(chosen, undefined, { l1: { timeoutMs: resolved.storeTimeoutMs } }),
    });
    this.#core = { engine, store: chosen, options: resolved, stats, semantic, requests: new RequestMemo(DEFAULT_MAX_JSON_DEPTH) };
  }

  /** The validated options in effect. */
  get options(): Readonly<ResolvedOptions> {
    return this.#core.options;
  }

  get store(): CacheStore {
    return this.#core.store;
  }

  /**
   * Cache any stream of chunks. `streamFn(messages)` may return an AsyncIterable or a Promise of
   * one (an SDK's `create({ stream: true })`). On a miss its chunks are yielded live and stored
   * only if the stream completed (no throw, no early `break`); identical calls meanwhile share the
   * run, live; on a hit the chunks are replayed.
   */
  getOrStream<T>(
    messages: unknown,
    streamFn: StreamProducer<T>,
    options: StreamCallOptions<T, T[]> & { chunkJoiner?: undefined },
  ): CachedStream<T, T[]>;
  getOrStream<T, V>(
    messages: unknown,
    streamFn: StreamProducer<T>,
    options: StreamCallOptions<T, V> & { chunkJoiner: (chunks: T[]) => V },
  ): CachedStream<T, V>;
  getOrStream<T, V>(
    messages: unknown,
    streamFn: StreamProducer<T>,
    options: StreamCallOptions<T, V>,
  ): CachedStream<T, V> | CachedStream<T, T[]> {
    const call = resolveCall(this.#core, 'stream', messages, options);
    const pacing = options.replay ?? this.#core.options.replay;
    const start = (report: (status: GenericCacheStatus) => void) =>
      streamThroughCache(this.#core, call, streamFn, messages, pacing, report);
    const joiner = options.chunkJoiner;
    return joiner ? new CachedStream<T, V>(start, joiner) : new CachedStream<T, T[]>(start, (chunks) => chunks);
  }

  /** Cache a non-stream result: the stored value, or createFn's result (stored once it resolved). */
  getOrCreate<T>(messages: unknown, createFn: (messages: unknown) => Promise<T>, options: CallOptions<T>): Promise<T> {
    const call = resolveCall(this.#core, 'create', messages, options);
    return createThroughCache(this.#core, call, createFn, messages);
  }

  /** Purge entries (and their semantic candidates); returns how many entries were removed. */
  async invalidate(filter: PurgeFilter): Promise<number> {
    const removed = await this.#core.store.purge(filter);
    await this.#core.semantic.purge(filter);
    return removed;
  }

  /** The in-process semantic index: partitions, rows and bytes (all 0 while `semantic` is off). */
  semanticStats(): IndexStats {
    return this.#core.semantic.stats();
  }

  stats(): CacheStats {
    return this.#core.stats.snapshot();
  }

  /**
   * A fetch for an SDK whose base URL is `baseURL` (as the SDK's `baseURL` option: OpenAI's
   * includes /v1). The wrappers use it; use it directly for other fetch-based clients.
   */
  fetchFor(family: ProtocolFamily, baseURL: string, realFetch: FetchFunction = globalThis.fetch): FetchFunction {
    return createCachingFetch(this.#core, family, baseURL, realFetch);
  }

  /** Closes the store (a RedisStore's connection) and the semantic layer's. */
  async close(): Promise<void> {
    await this.#core.semantic.close();
    await this.#core.store.close();
  }
}
