import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type RedisClusterHandle,
  type RedisHandle,
  startRedis,
  startRedisCluster,
} from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, eventually, type Harness, sleep, startHarness } from './harness.js';

let mock: MockUpstream;
let redis: RedisHandle;
let a: Harness;
let b: Harness;

beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis();
  // Two gateway replicas, one shared Redis, separate L1s.
  a = await startHarness({ redis: { url: redis.url, timeoutMs: 100 } }, mock);
  b = await startHarness({ redis: { url: redis.url, timeoutMs: 100 } }, mock);
});
afterAll(async () => {
  await a?.gateway.close();
  await b?.gateway.close();
  await redis?.stop();
  await mock?.close();
});

async function cacheOf(h: Harness, body: object, headers: Record<string, string> = {}) {
  const res = await h.post('/v1/chat/completions', body, headers);
  const text = await res.text();
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), text };
}

describe('two gateways share one Redis', () => {
  test('a miss on A is a hit on B (from L2), then from B’s own L1', async () => {
    const body = chatBody('shared across replicas', { stream: true });
    const first = await cacheOf(a, body);
    expect(first.cache).toBe('MISS');
    const calls = mock.stats.requests;
    await eventually(async () => (await cacheOf(b, body)).cache === 'HIT');
    expect(mock.stats.requests).toBe(calls);
    const again = await cacheOf(b, body);
    expect(again.text).toBe(first.text);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/sluice_cache_lookups_total\{layer="l2",result="hit"\} 1\b/);
    expect(metrics).toMatch(/sluice_cache_lookups_total\{layer="l1",result="hit"\} [1-9]/);
  });

  test('a purge on one replica reaches Redis, so the other replica misses once its L1 copy is gone', async () => {
    const purgeA = await startHarness(
      { redis: { url: redis.url }, adminToken: 'admin-token-0123456789' },
      mock,
    );
    try {
      const body = chatBody('purge via redis');
      await cacheOf(purgeA, body, { 'x-sluice-tags': 'rollout-1' });
      await eventually(async () => (await cacheOf(b, body)).cache === 'HIT');
      const purged = await fetch(`${purgeA.url}/admin/purge`, {
        method: 'POST',
        headers: { authorization: 'Bearer admin-token-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({ tag: 'rollout-1' }),
      });
      expect(((await purged.json()) as { purged: number }).purged).toBeGreaterThanOrEqual(1);
      // A fresh replica (empty L1) now misses: the Redis copy is gone too.
      const fresh = await startHarness({ redis: { url: redis.url } }, mock);
      try {
        expect((await cacheOf(fresh, body)).cache).toBe('MISS');
      } finally {
        await fresh.gateway.close();
      }
    } finally {
      await purgeA.gateway.close();
    }
  });
});

describe('Redis failure is a miss, never a failed request', () => {
  test('kill Redis during a stream of requests: 0 failed requests; restart: L2 hits resume', async () => {
    let failures = 0;
    let served = 0;
    let stop = false;
    const load = (async () => {
      let i = 0;
      while (!stop) {
        const body = chatBody(`load ${i++ % 5}`, { stream: i % 2 === 0 });
        const started = Date.now();
        const res = await cacheOf(a, body).catch(() => ({ status: 0, cache: null, text: '' }));
        if (res.status !== 200) failures++;
        else served++;
        // Never a slow one either: the Redis budget is 100 ms.
        if (Date.now() - started > 1000) failures++;
      }
    })();
    await sleep(300);
    await redis.kill();
    await sleep(1200);
    stop = true;
    await load;
    expect(failures).toBe(0);
    expect(served).toBeGreaterThan(20);

    await redis.restart();
    const body = chatBody('after restart', { stream: true });
    // The breaker half-opens on its own; writes from A land in Redis again and B reads them.
    await eventually(async () => {
      await cacheOf(a, body, { 'cache-control': 'no-cache' });
      return (await cacheOf(b, body)).cache === 'HIT';
    }, 10_000);
  }, 30_000);
});

describe('Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 30_000);
  afterAll(async () => cluster?.stop());

  test('a miss on one gateway is a hit on another through a 3-node cluster', async () => {
    const c1 = await startHarness({ redis: { cluster: { nodes: cluster.nodes } } }, mock);
    const c2 = await startHarness({ redis: { cluster: { nodes: cluster.nodes } } }, mock);
    try {
      for (let i = 0; i < 5; i++) {
        const body = chatBody(`cluster ${i}`, { stream: true });
        const first = await cacheOf(c1, body);
        expect(first.cache).toBe('MISS');
        await eventually(async () => (await cacheOf(c2, body)).cache === 'HIT');
      }
    } finally {
      await c1.gateway.close();
      await c2.gateway.close();
    }
  }, 30_000);
});
