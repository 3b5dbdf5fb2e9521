import { afterAll, beforeAll, expect, test } from 'vitest';
import { ENTRY_VERSION, type CacheEntry } from '../../src/cache/entry.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { type RedisHandle, startRedis, startRedisSentinel } from '../helpers/redis-server.js';

let master: RedisHandle;
let sentinel: Awaited<ReturnType<typeof startRedisSentinel>>;
beforeAll(async () => {
  master = await startRedis();
  sentinel = await startRedisSentinel(master.port);
}, 30_000);
afterAll(async () => {
  await sentinel?.stop();
  await master?.stop();
});

test('RedisStore finds its master through Sentinel and round-trips an entry', async () => {
  const store = new RedisStore({ sentinel: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.name } });
  try {
    await store.ready(5000);
    const entry: CacheEntry = {
      version: ENTRY_VERSION,
      format: 'json',
      protocol: 'openai.chat',
      contentType: 'application/json',
      createdAt: Date.now(),
      ttlMs: 60_000,
      model: 'gpt-4o-mini',
      namespace: 'default',
      tags: ['via-sentinel'],
      body: new TextEncoder().encode('{"ok":true}'),
    };
    expect(await store.set('v1:sentinel-key', entry)).toBe(true);
    const back = await store.get('v1:sentinel-key');
    expect(Buffer.from(back?.body ?? []).toString()).toBe('{"ok":true}');
    expect(await store.purge({ tag: 'via-sentinel' })).toBe(1);
  } finally {
    await store.close();
  }
});
