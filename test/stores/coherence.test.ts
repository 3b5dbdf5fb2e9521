import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CoherenceSetUpError, type CoherenceState, RedisCoherence } from '../../src/cache/coherence.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { failOpenTiers } from '../../src/engine/stores.js';
import { type RedisHandle, startRedis, startRedisSentinel } from '../helpers/redis-server.js';
import { jsonEntry } from './entries.js';

/**
 * RedisCoherence in one process: two "replicas" (each a MemoryStore + RedisStore + coherence) on
 * one real redis-server, and one behind Sentinel. The fleet tests (test/fleet/coherence.test.ts)
 * prove the same across processes; these pin the races the fleet tests cannot time.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function eventuallyAsync(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Read through `r` until its L1 holds `key` (a first read may be crossed by the store's own invalidation). */
async function holdInL1(r: { store: { lookup(key: string): Promise<unknown> }; l1: MemoryStore }, key: string) {
  await eventuallyAsync(`${key} in L1`, async () => (await r.store.lookup(key), r.l1.peek(key) !== undefined));
}

function replica(options: ConstructorParameters<typeof RedisStore>[0]) {
  const l1 = new MemoryStore();
  const redis = new RedisStore(options);
  const states: CoherenceState[] = [];
  const coherence = new RedisCoherence({ source: redis, l1, heartbeatMs: 200, onStateChange: (s) => states.push(s) });
  const store = failOpenTiers(l1, redis, { l2: { timeoutMs: 1_000 }, coherence });
  return { l1, redis, coherence, store, states, close: () => store.close() };
}

describe('RedisCoherence on one redis-server', () => {
  let server: RedisHandle;
  let a: ReturnType<typeof replica>;
  let b: ReturnType<typeof replica>;
  beforeAll(async () => {
    server = await startRedis();
    a = replica({ url: server.url });
    b = replica({ url: server.url });
    await until('both linked', () => a.coherence.state === 'linked' && b.coherence.state === 'linked');
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  test("a store by A drops B's L1 copy; A's own copy goes with its echo and comes back from L2", async () => {
    await a.store.set('k1', jsonEntry({ model: 'first' }));
    expect((await b.store.lookup('k1'))?.layer).toBe('l2');
    expect((await b.store.lookup('k1'))?.layer).toBe('l1');
    await a.store.set('k1', jsonEntry({ model: 'second' }));
    await until("B's L1 copy to go", () => b.l1.peek('k1') === undefined, 1_000);
    expect((await b.store.lookup('k1'))?.entry.model).toBe('second');
    // A's own write is invalidated like anyone's (one L2 read later), then A holds it again.
    await until("A's own copy to go with its echo", () => a.l1.peek('k1') === undefined, 1_000);
    expect((await a.store.lookup('k1'))?.layer).toBe('l2');
    expect((await a.store.lookup('k1'))?.entry.model).toBe('second');
    expect(a.l1.peek('k1')?.model).toBe('second');
  });

  test("two writes by A in one Redis cycle (one invalidation) do not make A deaf to B's next change", async () => {
    // Redis sends one invalidation per key per event-loop cycle, however many writes land in it:
    // writes held by CLIENT PAUSE are all run in the cycle that ends the pause.
    await b.redis.client.call('CLIENT', 'PAUSE', '300', 'WRITE');
    await Promise.all([
      a.store.set('k-echo', jsonEntry({ model: 'a1' })),
      a.store.set('k-echo', jsonEntry({ model: 'a2' })),
    ]);
    await sleep(100);
    await b.store.set('k-echo', jsonEntry({ model: 'b' }));
    await until("A's copy to go after B's change", () => a.l1.peek('k-echo') === undefined, 1_000);
    expect((await a.store.lookup('k-echo'))?.entry.model).toBe('b');
  });

  test('an L2 read crossed by an invalidation does not fill L1', async () => {
    await a.store.set('k2', jsonEntry({ model: 'old' }));
    const ticket = b.coherence.beginFill('k2');
    expect(ticket?.valid).toBe(true);
    await a.store.set('k2', jsonEntry({ model: 'new' }));
    await until('the ticket to be voided', () => ticket?.valid === false, 1_000);
    ticket?.done();
  });

  test('a purge through A reaches an entry B holds in memory only (Redis never had it)', async () => {
    await b.l1.set('local-only', jsonEntry({ namespace: 'ns-local' }));
    expect(await a.store.purge({ namespace: 'ns-local' })).toBe(0);
    await until('B to purge its own copy', () => b.l1.peek('local-only') === undefined, 1_000);
  });

  test('junk on the purge channel is dropped: no crash, the links stay up, real purges still arrive', async () => {
    const junk = ['null', '{}', '[]', '"text"', 'not json', '{"id":"j","from":"x"}', '{"id":"j","from":"x","filter":null}',
      '{"id":"j","from":"x","filter":{"key":"k","all":true}}', '{"id":"j","from":"x","filter":{"all":false}}',
      '{"id":"j","from":"x","filter":{"key":5}}'];
    for (const message of junk) await a.redis.client.publish('sluice:purge', message);
    await a.store.set('junk-1', jsonEntry({ namespace: 'ns-junk' }));
    // B's first read may be crossed by the store's own invalidation (then it does not fill L1).
    await eventuallyAsync('B to hold it in L1', async () => (await b.store.lookup('junk-1'), b.l1.peek('junk-1') !== undefined));
    // A message is handled in order after the junk: if B got this far, it survived the junk.
    await b.l1.set('junk-local', jsonEntry({ namespace: 'ns-junk' }));
    await a.store.purge({ namespace: 'ns-junk' });
    await until('B to purge its own copies', () => b.l1.peek('junk-local') === undefined && b.l1.peek('junk-1') === undefined, 1_000);
    expect(a.coherence.state).toBe('linked');
    expect(b.coherence.state).toBe('linked');
  });

  test('FLUSHALL (a null invalidation) empties every L1', async () => {
    await a.store.set('k3', jsonEntry());
    await holdInL1(b, 'k3');
    await a.redis.client.flushall();
    await until("B's L1 to empty", () => b.l1.stats().entries === 0, 1_000);
  });

  test('a link that dies flushes L1 and stops L1 fills until it is back, then flushes again', async () => {
    await a.store.set('k4', jsonEntry());
    await holdInL1(b, 'k4');
    const transitions = b.states.length;
    // Kill B's invalidation link from the server side, as a network cut would.
    const clients = ((await a.redis.client.call('CLIENT', 'LIST')) as string).split('\n');
    const link = clients.find((line) => line.includes(`name=${b.coherence.connectionName} `));
    // Tracking on (flag t), subscribed to the invalidation and purge channels.
    expect(link).toMatch(/flags=\S*t/);
    expect(link).toMatch(/\bsub=2\b/);
    await a.redis.client.call('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(link ?? '')?.[1] ?? '0');
    await until('B to notice', () => b.states.length > transitions);
    expect(b.states[transitions]).toBe('unlinked');
    expect(b.l1.peek('k4')).toBeUndefined();
    await until('B to relink', () => b.coherence.state === 'linked');
    expect((await b.store.lookup('k4'))?.layer).toBe('l2');
    expect((await b.store.lookup('k4'))?.layer).toBe('l1');
  });

});

describe('RedisCoherence on a server that refuses tracking', () => {
  test('the set-up error is reported as such; the replica stays unlinked and keeps no L2 hit in L1', async () => {
    const server = await startRedis();
    const admin = new RedisStore({ url: server.url });
    await admin.ready();
    // A user that may do everything but CLIENT (as some managed services do).
    await admin.client.call('ACL', 'SETUSER', 'limited', 'on', '>limited-pass', '~*', '&*', '+@all', '-client');
    const l1 = new MemoryStore();
    const redis = new RedisStore({ url: `redis://limited:limited-pass@127.0.0.1:${server.port}` });
    const errors: Error[] = [];
    const coherence = new RedisCoherence({ source: redis, l1, onLinkError: (err) => errors.push(err) });
    const store = failOpenTiers(l1, redis, { l2: { timeoutMs: 1_000 }, coherence });
    try {
      await until('the refusal to be reported', () => errors.some((err) => err instanceof CoherenceSetUpError));
      expect(errors.find((err) => err instanceof CoherenceSetUpError)?.message).toMatch(/NOPERM|permission/i);
      expect(coherence.state).toBe('unlinked');
      await admin.set('refused', jsonEntry());
      expect((await store.lookup('refused'))?.layer).toBe('l2');
      expect(l1.peek('refused')).toBeUndefined();
    } finally {
      await store.close();
      await admin.close();
      await server.stop();
    }
  }, 30_000);
});

describe('RedisCoherence for a replica whose server refuses tracking, beside one that may track', () => {
  test('A (denied CLIENT) stores, B purges: A misses at once; A keeps its own answers in L1 only briefly', async () => {
    const server = await startRedis();
    const admin = new RedisStore({ url: server.url });
    await admin.ready();
    await admin.client.call('ACL', 'SETUSER', 'limited', 'on', '>limited-pass', '~*', '&*', '+@all', '-client');
    const a = replica({ url: `redis://limited:limited-pass@127.0.0.1:${server.port}` });
    const b = replica({ url: server.url });
    try {
      await until('B linked', () => b.coherence.state === 'linked');
      // A's link is up with the purge channel alone (tracking refused, and its name too: CLIENT SETNAME is denied).
      await eventuallyAsync('A subscribed to the purge channel', async () => {
        const clients = ((await admin.client.call('CLIENT', 'LIST')) as string).split('\n');
        return clients.some((line) => /\buser=limited\b/.test(line) && /\bsub=1\b/.test(line));
      });
      expect(a.coherence.state).toBe('unlinked');
      await a.store.set('refused-1', jsonEntry({ model: 'a-answer', namespace: 'ns-refused' }));
      expect((await a.store.lookup('refused-1'))?.layer).toBe('l1');
      expect(await b.store.purge({ namespace: 'ns-refused' })).toBe(1);
      await until("A's own copy to go", () => a.l1.peek('refused-1') === undefined, 1_000);
      expect(await a.store.lookup('refused-1')).toBeUndefined();
      // Not purged, but replaced through B: A cannot hear that, so its own copy lives 1 s at most.
      await a.store.set('refused-2', jsonEntry({ model: 'a-answer' }));
      await b.store.set('refused-2', jsonEntry({ model: 'b-answer' }));
      await sleep(1_100);
      expect(a.l1.peek('refused-2')).toBeUndefined();
      expect((await a.store.lookup('refused-2'))?.entry.model).toBe('b-answer');
    } finally {
      await a.close();
      await b.close();
      await admin.close();
      await server.stop();
    }
  }, 30_000);
});

describe('RedisCoherence through Sentinel', () => {
  test('the master restarts (as after a failover): the link drops, L1 is flushed, the link comes back and invalidates again', async () => {
    const master = await startRedis();
    const sentinel = await startRedisSentinel(master.port);
    const options = { sentinel: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.name } };
    const a = replica(options);
    const b = replica(options);
    try {
      await until('both linked', () => a.coherence.state === 'linked' && b.coherence.state === 'linked', 15_000);
      await a.store.set('s1', jsonEntry());
      await holdInL1(b, 's1');
      await master.kill();
      await until('B to notice the loss', () => b.coherence.state === 'unlinked', 5_000);
      expect(b.l1.peek('s1')).toBeUndefined();
      await master.restart();
      await until('both to relink through Sentinel', () => a.coherence.state === 'linked' && b.coherence.state === 'linked', 20_000);
      await a.store.set('s2', jsonEntry({ model: 'one' }));
      await holdInL1(b, 's2');
      expect(b.l1.peek('s2')?.model).toBe('one');
      await a.store.set('s2', jsonEntry({ model: 'two' }));
      await until("B's stale copy to go", () => b.l1.peek('s2') === undefined, 1_000);
    } finally {
      await a.close();
      await b.close();
      await sentinel.stop();
      await master.stop();
    }
  }, 60_000);
});
