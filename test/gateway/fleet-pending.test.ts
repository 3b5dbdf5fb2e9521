import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FleetStats } from '../../src/gateway/fleet-stats.js';
import { createPriceTable } from '../../src/stats/prices.js';
import { startTcpRelay, type TcpRelay } from '../fleet/tcp-relay.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';

/**
 * The fleet figures keep what they could not report for the next report; while Redis is down
 * for long, what they keep must stay bounded by the retention (nothing older is ever read).
 */

let redis: RedisHandle;
let relay: TcpRelay;
beforeAll(async () => {
  redis = await startRedis();
  relay = await startTcpRelay(redis.port);
}, 30_000);
afterAll(async () => {
  await relay?.close();
  await redis?.stop();
});

test('two days with Redis unreachable: what is finally reported covers the retention, not every period since', async () => {
  const HOUR = 3_600_000;
  let now = Date.UTC(2026, 0, 1);
  relay.cut();
  const client = new Redis(relay.port, { host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  const fleet = new FleetStats({ client, keyPrefix: 'pending:', prices: createPriceTable(), now: () => now, reportEveryMs: 3_600_000 });
  try {
    for (let hour = 0; hour < 48; hour++) {
      now += HOUR;
      fleet.record({ type: 'response', outcome: 'MISS' });
      await fleet.report();
    }
    relay.restore();
    const deadline = Date.now() + 10_000;
    while (client.status !== 'ready') {
      if (Date.now() > deadline) throw new Error('client did not reconnect');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await fleet.report();
    const probe = new Redis(redis.port, { host: '127.0.0.1' });
    const buckets = (await probe.keys('{pending:fleet}:*')).filter((key) => !key.endsWith(':members'));
    probe.disconnect();
    expect(buckets.length).toBeGreaterThan(0);
    expect(buckets.length).toBeLessThanOrEqual(24);
    expect((await fleet.view()).requests.total).toBe(24);
  } finally {
    await fleet.close();
    client.disconnect();
  }
}, 60_000);
