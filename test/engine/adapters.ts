import OpenAI from 'openai';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { TieredStore } from '../../src/cache/tiered-store.js';
import { ResponseCache, wrapOpenAI } from '../../src/index.js';
import { startHarness } from '../gateway/harness.js';
import type { MockUpstream } from '../mock-upstream/index.js';

/**
 * The behaviour the gateway and the library share, reached through each: one test body, two
 * adapters (like test/stores/store-contract.ts). A subject is an OpenAI client whose calls go
 * through Sluice, configured with the same option names on both sides.
 */
export interface SubjectOptions {
  /** A Redis behind the cache: the gateway's L2, the library's TieredStore L2. */
  redisUrl?: string;
  /** Bound on each store call (gateway: redis.timeoutMs; library: storeTimeoutMs). */
  storeTimeoutMs?: number;
  limits?: { idleTimeoutMs?: number; maxStreamDurationMs?: number; maxResponseBytes?: number };
  ttlSeconds?: number;
  maxTtlSeconds?: number;
  maxFollowers?: number;
}

export interface Subject {
  openai(): OpenAI;
  /** How calls were counted: each call once, as a miss or as coalesced (or a hit, a bypass). */
  counts(): Promise<{ miss: number; coalesced: number }>;
  close(): Promise<void>;
}

export interface Adapter {
  name: string;
  start(mock: MockUpstream, options?: SubjectOptions): Promise<Subject>;
}

export const gatewayAdapter: Adapter = {
  name: 'gateway',
  start: async (mock, o = {}) => {
    const h = await startHarness(
      {
        ...(o.redisUrl ? { redis: { url: o.redisUrl, timeoutMs: o.storeTimeoutMs ?? 50 } } : {}),
        limits: o.limits ?? {},
        cache: {
          ...(o.ttlSeconds !== undefined ? { ttlSeconds: o.ttlSeconds } : {}),
          ...(o.maxTtlSeconds !== undefined ? { maxTtlSeconds: o.maxTtlSeconds } : {}),
          ...(o.maxFollowers !== undefined ? { maxFollowers: o.maxFollowers } : {}),
        },
      },
      mock,
    );
    return {
      openai: () => h.openai(),
      counts: async () => {
        const text = await (await fetch(`${h.url}/metrics`)).text();
        const read = (result: string) =>
          Number(new RegExp(`sluice_cache_lookups_total\\{layer="none",result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
        return { miss: read('miss'), coalesced: read('coalesced') };
      },
      close: () => h.gateway.close(),
    };
  },
};

export const libraryAdapter: Adapter = {
  name: 'library',
  start: async (mock, o = {}) => {
    // The store the issue names: a TieredStore whose L2 may stall (the library wraps any store).
    const redis = o.redisUrl ? new RedisStore({ url: o.redisUrl, commandTimeoutMs: 10_000 }) : undefined;
    await redis?.ready();
    const cache = new ResponseCache({
      ...(redis ? { store: new TieredStore({ l1: new MemoryStore(), l2: redis }) } : {}),
      ...(o.storeTimeoutMs !== undefined ? { storeTimeoutMs: o.storeTimeoutMs } : {}),
      ...(o.limits ? { limits: o.limits } : {}),
      ...(o.ttlSeconds !== undefined ? { ttlSeconds: o.ttlSeconds } : {}),
      ...(o.maxTtlSeconds !== undefined ? { maxTtlSeconds: o.maxTtlSeconds } : {}),
      ...(o.maxFollowers !== undefined ? { maxFollowers: o.maxFollowers } : {}),
    });
    const client = wrapOpenAI(new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-test-tenant-a', maxRetries: 0 }), {
      cache,
    });
    return {
      openai: () => client,
      counts: async () => {
        const stats = cache.stats();
        return { miss: stats.misses, coalesced: stats.coalesced };
      },
      close: () => cache.close(),
    };
  },
};

export const ADAPTERS: readonly Adapter[] = [gatewayAdapter, libraryAdapter];
