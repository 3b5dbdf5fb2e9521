import { type AddressInfo, createServer, type Socket } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/cache/redis-store.js';
import { StoreError } from '../../src/cache/store.js';
import { type RedisHandle, startRedis, startRedisCluster } from '../helpers/redis-server.js';
import { jsonEntry, sseEntry } from './entries.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('RedisStore (standalone)', async () => {
  const redis = await startRedis();
  const store = new RedisStore({ url: redis.url });
  await store.ready();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await redis.stop();
    },
  };
});

describeStoreContract('RedisStore (3-node cluster)', async () => {
  const cluster = await startRedisCluster(3);
  const store = new RedisStore({ cluster: { nodes: cluster.nodes } });
  await store.ready(10_000);
  expect(store.isCluster).toBe(true);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await cluster.stop();
    },
  };
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return (err as StoreError).code;
  }
}

describe('RedisStore', () => {
  let redis: RedisHandle;
  let raw: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw.disconnect();
    await redis.stop();
  });

  it('writes entries with a PX TTL and index sets that live as long as their longest member', async () => {
    const store = new RedisStore({ url: redis.url, keyPrefix: 'idx:' });
    await store.ready();
    await store.set('long', jsonEntry({ namespace: 'n', tags: ['t'], ttlMs: 60_000 }));
    await store.set('short', jsonEntry({ namespace: 'n', tags: ['t'], ttlMs: 5_000 }));
    const entryTtl = await raw.pttl('idx:e:long');
    expect(entryTtl).toBeGreaterThan(55_000);
    expect(entryTtl).toBeLessThanOrEqual(60_000);
    // The shorter member must not shorten the set's TTL below the longer one.
    expect(await raw.pttl('idx:ns:n')).toBeGreaterThan(55_000);
    expect(await raw.pttl('idx:tag:t')).toBeGreaterThan(55_000);
    expect((await raw.smembers('idx:ns:n')).sort()).toEqual(['long', 'short']);
    await store.close();
  });

  it('entries written to a namespace while it is being purged stay purgeable by a later purge', async () => {
    const store = new RedisStore({ url: redis.url, keyPrefix: 'during:' });
    await store.ready();
    // Enough members for several SSCAN batches, so the purge spans many round trips.
    const pipeline = raw.pipeline();
    for (let i = 0; i < 6_000; i++) pipeline.set(`during:e:old-${i}`, 'x', 'PX', 60_000).sadd('during:ns:busy', `old-${i}`);
    await pipeline.exec();
    let purging = true;
    const late: string[] = [];
    const writer = (async () => {
      for (let i = 0; purging || i < 5; i++) {
        await store.set(`late-${i}`, jsonEntry({ namespace: 'busy', ttlMs: 60_000 }));
        late.push(`late-${i}`);
      }
    })();
    const first = await store.purge({ namespace: 'busy' });
    purging = false;
    await writer;
    expect(first).toBeGreaterThanOrEqual(6_000);
    await store.purge({ namespace: 'busy' });
    const left = await Promise.all(late.map((key) => raw.exists(`during:e:${key}`)));
    expect(late.filter((_, i) => left[i] === 1)).toEqual([]);
    await store.close();
  });

  it('leaves keys outside its prefix alone when purging everything', async () => {
    await raw.set('someone-else:key', 'v');
    const store = new RedisStore({ url: redis.url, keyPrefix: 'mine[1]*:' });
    await store.ready();
    await store.set('a', sseEntry());
    await raw.set('mine[1]x:foreign', 'v'); // matches the prefix only if glob chars were not escaped
    expect(await store.purge({ all: true })).toBe(1);
    expect(await raw.exists('someone-else:key', 'mine[1]x:foreign')).toBe(2);
    expect(await raw.keys('mine\\[1\\]\\*:*')).toEqual([]);
    await store.close();
  });

  it('reports a corrupt stored value as STORE_CORRUPT_ENTRY', async () => {
    const store = new RedisStore({ url: redis.url });
    await store.ready();
    await raw.set('sluice:e:garbage', 'not an entry');
    expect(await codeOf(store.get('garbage'))).toBe('STORE_CORRUPT_ENTRY');
    await store.close();
  });

  it('skips entries over maxEntryBytes', async () => {
    const store = new RedisStore({ url: redis.url, maxEntryBytes: 1024 });
    await store.ready();
    expect(await store.set('big', jsonEntry({ body: new Uint8Array(2048) }))).toBe(false);
    expect(await raw.exists('sluice:e:big')).toBe(0);
    await store.close();
  });

  it('works with an injected client and leaves it open on close', async () => {
    const client = new Redis(redis.url);
    const store = new RedisStore({ client, keyPrefix: 'inj:' });
    await store.ready();
    expect(await store.set('k', jsonEntry())).toBe(true);
    expect((await store.get('k'))?.model).toBe('gpt-test');
    await store.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('rejects conflicting connection options', () => {
    expect(() => new RedisStore({ url: redis.url, cluster: { nodes: ['127.0.0.1:1'] } })).toThrow(/only one/);
    expect(() => new RedisStore({ cluster: { nodes: [] } })).toThrow(/cluster.nodes/);
  });
});

describe('RedisStore when Redis is down', () => {
  it('fails fast with STORE_UNAVAILABLE, never emits an unhandled error, and closes without hanging', async () => {
    const redis = await startRedis();
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: 200 });
    await store.ready();
    await redis.kill();
    // Let the client notice the dead socket.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    expect(await codeOf(store.get('k'))).toBe('STORE_UNAVAILABLE');
    expect(await codeOf(store.set('k', jsonEntry()))).toBe('STORE_UNAVAILABLE');
    expect(await codeOf(store.purge({ all: true }))).toBe('STORE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(100);

    const closing = Date.now();
    await store.close();
    expect(Date.now() - closing).toBeLessThan(700);
    await redis.stop();
  });

  it('times out ready() with STORE_UNAVAILABLE when nothing listens', async () => {
    const redis = await startRedis();
    await redis.stop();
    const store = new RedisStore({ url: redis.url, connectTimeoutMs: 100 });
    expect(await codeOf(store.ready(150))).toBe('STORE_UNAVAILABLE');
    expect(await codeOf(store.get('k'))).toBe('STORE_UNAVAILABLE');
    await store.close();
  });

  it('maps a command timeout to STORE_TIMEOUT', async () => {
    // A server that passes the connection handshake and the ready check, then never answers GET.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => {
        // Each RESP command starts with "*<argc>"; its first bulk string is the command name.
        for (const [, name] of chunk.toString('utf8').matchAll(/\*\d+\r\n\$\d+\r\n(\w+)\r\n/g)) {
          const command = name?.toLowerCase();
          if (command === 'info') socket.write('$9\r\nloading:0\r\n');
          else if (command !== 'get') socket.write('+OK\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 50 });
    await store.ready();
    const started = Date.now();
    expect(await codeOf(store.get('k'))).toBe('STORE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(200);
    await store.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

describe('RedisStore in cluster mode', () => {
  it('spreads entries over several masters and still purges namespaces, tags and all with per-key commands', async () => {
    const cluster = await startRedisCluster(3);
    const store = new RedisStore({ cluster: { nodes: cluster.nodes.map((node) => `redis://${node}`) } });
    const probe = new Cluster(
      cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
    );
    try {
      await store.ready(10_000);
      for (let i = 0; i < 30; i++) {
        await store.set(`k${i}`, jsonEntry({ namespace: 'ns-spread', tags: [i % 2 === 0 ? 'even' : 'odd'] }));
      }
      if (probe.status !== 'ready')
        await new Promise<void>((resolve) => probe.once('ready', () => resolve()));
      const perMaster = await Promise.all(probe.nodes('master').map((node) => node.dbsize()));
      // Entry keys hash to different slots, so a multi-key UNLINK would have failed with CROSSSLOT.
      expect(perMaster.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);

      expect(await store.purge({ tag: 'even' })).toBe(15);
      expect(await store.get('k0')).toBeUndefined();
      expect(await store.get('k1')).toBeDefined();
      expect(await store.purge({ namespace: 'ns-spread' })).toBe(15);
      expect(await store.get('k1')).toBeUndefined();

      await store.set('again', sseEntry({ namespace: 'other', tags: ['x', 'y'] }));
      expect(await store.purge({ all: true })).toBe(1);
      const left = await Promise.all(probe.nodes('master').map((node) => node.dbsize()));
      expect(left.every((count) => count === 0)).toBe(true);
    } finally {
      probe.disconnect();
      await store.close();
      await cluster.stop();
    }
  });
});
