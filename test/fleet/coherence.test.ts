import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, eventually, type Fleet, type Replica, sleep, startFleet } from './harness.js';

/**
 * Issue 23, part 1: replicas sharing a Redis behave as one cache. Every change made through one
 * replica (purge by any filter, a refresh, a store replacing an entry) reaches the other
 * replicas' memory (L1) within 1 s, also for a replica that was cut off from Redis meanwhile.
 */

/**
 * The live traffic's Redis budget, raised from 50 ms: on a loaded test machine a read that times
 * out is a miss (fail open), and a miss here stores a new answer that replaces the one under test.
 */
const FLEET_CONFIG = { redis: { timeoutMs: 1_000 } };

/** Answers differ per upstream call, so a replayed answer is told from a fresh one. */
const UNIQUE = { 'x-mock-unique': '1' };

interface Seen {
  cache: string | null;
  key: string | null;
  text: string;
}

async function ask(replica: Replica, content: string, headers: Record<string, string> = {}): Promise<Seen> {
  const res = await replica.post('/v1/chat/completions', chatBody(content), { ...UNIQUE, ...headers });
  const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
  expect(res.status).toBe(200);
  return {
    cache: res.headers.get('x-sluice-cache'),
    key: res.headers.get('x-sluice-key'),
    text: body.choices?.[0]?.message?.content ?? '',
  };
}

/** Ask `replica` until it serves `text` from its memory (the entry reached L2, then its L1). */
async function warm(replica: Replica, content: string, text: string, headers: Record<string, string> = {}) {
  await eventually(`replica ${replica.index} to hold the entry in L1`, async () => {
    const seen = await ask(replica, content, headers);
    return seen.cache === 'HIT' && seen.text === text;
  });
  // Now it is in L1 (an L2 hit copies it there); one more hit proves it is served.
  expect((await ask(replica, content, headers)).text).toBe(text);
}

/**
 * Ask `replica` until it no longer answers `stale`. Returns when the first request that saw the
 * change was sent, counted from the call: the propagation delay, without the last request's own
 * time (which a loaded test machine stretches). Fails past 1 s.
 */
async function servesWithin1s(
  replica: Replica,
  content: string,
  what: string,
  accept: (text: string) => boolean,
  headers: Record<string, string> = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const sentAt = Date.now() - started;
    if (sentAt > 1_000) throw new Error(`replica ${replica.index} did not ${what} within 1 s`);
    if (accept((await ask(replica, content, headers)).text)) return sentAt;
    await sleep(10);
  }
}

function stopsServing(replica: Replica, content: string, stale: string, headers: Record<string, string> = {}) {
  return servesWithin1s(replica, content, 'stop serving the old answer', (text) => text !== stale, headers);
}

/** A direct client on the fleet's Redis, to see what L2 holds. */
function probeRedis(fleet: Fleet): Redis | Cluster {
  if (fleet.cluster) return new Cluster(fleet.cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
  return new Redis(fleet.redis?.port ?? 0, { host: '127.0.0.1' });
}

/** The entry is committed to Redis a moment after its client had the answer: wait for it there. */
async function inRedis(probe: Redis | Cluster, seen: Seen): Promise<void> {
  await eventually('the entry to reach Redis', async () => (await probe.exists(`sluice:e:${seen.key ?? ''}`)) === 1);
}

async function adminJson(replica: Replica, method: string, path: string, body?: unknown) {
  const res = await replica.admin(method, path, body);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('fleet coherence on one redis-server', () => {
  let fleet: Fleet;
  let a: Replica;
  let b: Replica;
  let c: Replica;
  let probe: Redis | Cluster;
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3, config: FLEET_CONFIG });
    [a, b, c] = fleet.replicas as [Replica, Replica, Replica];
    probe = probeRedis(fleet);
  }, 120_000);
  afterAll(async () => {
    probe?.disconnect();
    await fleet?.close();
  });

  /** A first answer through A, then held in B's and C's memory. */
  async function spread(content: string, headers: Record<string, string> = {}): Promise<Seen> {
    const first = await ask(a, content, headers);
    expect(first.cache).toBe('MISS');
    await inRedis(probe, first);
    await warm(b, content, first.text, headers);
    await warm(c, content, first.text, headers);
    return first;
  }

  const purges: [string, (seen: Seen) => unknown, Record<string, string>][] = [
    ['key', (seen) => ({ key: seen.key }), {}],
    ['namespace', () => ({ namespace: 'coh-ns' }), { 'x-sluice-namespace': 'coh-ns' }],
    ['tag', () => ({ tag: 'coh-tag' }), { 'x-sluice-tags': 'coh-tag,other' }],
    ['all', () => ({ all: true }), {}],
  ];
  for (const [name, filterOf, headers] of purges) {
    test(`a purge by ${name} through A stops B and C serving the entry within 1 s`, async () => {
      const content = `coherence: purge by ${name}`;
      const first = await spread(content, headers);
      const purged = await adminJson(a, 'POST', '/admin/purge', filterOf(first));
      expect(purged.status).toBe(200);
      expect(purged.body.purged).toBeGreaterThanOrEqual(1);
      const [tookB, tookC] = await Promise.all([
        stopsServing(b, content, first.text, headers),
        stopsServing(c, content, first.text, headers),
      ]);
      expect(tookB).toBeLessThan(1_000);
      expect(tookC).toBeLessThan(1_000);
    }, 30_000);
  }

  test('a purge by key through DELETE /admin/entries/KEY reaches the other replicas', async () => {
    const content = 'coherence: delete entry';
    const first = await spread(content);
    const deleted = await adminJson(a, 'DELETE', `/admin/entries/${encodeURIComponent(first.key ?? '')}`);
    expect(deleted.status).toBe(200);
    await Promise.all([stopsServing(b, content, first.text), stopsServing(c, content, first.text)]);
  }, 30_000);

  test('a refresh on A (Cache-Control: no-cache): B and C serve the new answer', async () => {
    const content = 'coherence: refresh';
    const first = await spread(content);
    const refreshed = await ask(a, content, { 'cache-control': 'no-cache' });
    expect(refreshed.cache).toBe('REFRESH');
    expect(refreshed.text).not.toBe(first.text);
    await Promise.all(
      [b, c].map((replica) =>
        servesWithin1s(replica, content, 'serve the refreshed answer', (text) => text === refreshed.text),
      ),
    );
    // And it stays: nothing brings the old answer back.
    await sleep(200);
    expect((await ask(b, content)).text).toBe(refreshed.text);
    expect((await ask(c, content)).text).toBe(refreshed.text);
  }, 30_000);

  test('a store on A replacing an entry (max-age=0 made the old one too old for A) reaches B and C', async () => {
    const content = 'coherence: replaced by a store';
    const first = await spread(content);
    await sleep(1_100);
    const replaced = await ask(a, content, { 'cache-control': 'max-age=0' });
    expect(replaced.cache).toBe('MISS');
    expect(replaced.text).not.toBe(first.text);
    await Promise.all(
      [b, c].map((replica) =>
        servesWithin1s(replica, content, 'serve the replacing answer', (text) => text === replaced.text),
      ),
    );
  }, 30_000);

  test('a purge made while B is cut off from Redis: B never serves what it got from L2 once it noticed', async () => {
    const content = 'coherence: purge while cut off';
    const first = await spread(content);
    b.redisLink?.cut();
    try {
      await eventually('B to notice it lost its invalidation link', async () => {
        const stats = await adminJson(b, 'GET', '/admin/stats');
        return (stats.body.l2 as { coherence?: string } | null)?.coherence === 'unlinked';
      });
      const purged = await adminJson(a, 'POST', '/admin/purge', { key: first.key });
      expect(purged.body.purged).toBe(1);
      // B cannot hear the purge, but flushed what it got from L2 when it noticed the loss.
      const during = await ask(b, content);
      expect(during.text).not.toBe(first.text);
      expect(during.cache).toBe('MISS');
    } finally {
      b.redisLink?.restore();
    }
    await eventually('B to re-establish its invalidation link', async () => {
      const stats = await adminJson(b, 'GET', '/admin/stats');
      return (stats.body.l2 as { coherence?: string } | null)?.coherence === 'linked';
    });
    expect((await ask(b, content)).text).not.toBe(first.text);
  }, 60_000);

  test('a purge during a cut also drops what B stored on its own meanwhile, once B is back', async () => {
    const content = 'coherence: stored while cut off';
    b.redisLink?.cut();
    let local: Seen;
    try {
      await eventually('B to notice it lost its invalidation link', async () => {
        const stats = await adminJson(b, 'GET', '/admin/stats');
        return (stats.body.l2 as { coherence?: string } | null)?.coherence === 'unlinked';
      });
      // B answers on its own (fail open) and keeps the answer in memory only.
      local = await ask(b, content);
      expect(local.cache).toBe('MISS');
      await sleep(100);
      expect((await ask(b, content)).text).toBe(local.text);
      // The operator purges everything through A: B cannot hear it.
      expect((await adminJson(a, 'POST', '/admin/purge', { all: true })).status).toBe(200);
    } finally {
      b.redisLink?.restore();
    }
    await eventually('B to re-establish its invalidation link', async () => {
      const stats = await adminJson(b, 'GET', '/admin/stats');
      return (stats.body.l2 as { coherence?: string } | null)?.coherence === 'linked';
    });
    expect((await ask(b, content)).text).not.toBe(local.text);
  }, 60_000);

  test('a stalled link (nothing gets through, nothing closes) is found by the heartbeat and flushed', async () => {
    const content = 'coherence: stalled link';
    const first = await spread(content);
    b.redisLink?.stall();
    try {
      const noticed = await eventually(
        'B to notice its link stalled',
        async () => {
          const stats = await adminJson(b, 'GET', '/admin/stats');
          return (stats.body.l2 as { coherence?: string } | null)?.coherence === 'unlinked';
        },
        10_000,
      );
      console.log(`a stalled link was noticed after ${noticed} ms`);
      expect((await adminJson(a, 'POST', '/admin/purge', { key: first.key })).body.purged).toBe(1);
      expect((await ask(b, content)).text).not.toBe(first.text);
    } finally {
      b.redisLink?.restore();
    }
    await eventually(
      'B to re-establish its invalidation link',
      async () => {
        const stats = await adminJson(b, 'GET', '/admin/stats');
        return (stats.body.l2 as { coherence?: string } | null)?.coherence === 'linked';
      },
      15_000,
    );
  }, 60_000);

  test('an L1 hit issues no Redis command, on a replica that read the entry from L2 and on the one that stored it', async () => {
    const content = 'coherence: L1 hits are free';
    const first = await spread(content);
    /** Commands Redis ran, by name: the probe's INFO, the links' heartbeats and the fleet figures' 2 s report aside. */
    const commands = async () => {
      const info = await (probe as Redis).info('commandstats');
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
        if (['info', 'ping', 'hincrby', 'hincrbyfloat', 'hset', 'pexpire', 'hgetall'].includes(match[1] as string)) continue;
        calls[match[1] as string] = Number(match[2]);
      }
      return calls;
    };
    // A's own copy goes with its write's invalidation, and a read of B's may have been crossed by
    // it (then B rightly did not fill L1): one more L2 read brings the entry into L1. Ask until a
    // request sends nothing, which only an L1 hit can do.
    await warm(a, content, first.text);
    // A window of 20 hits served from L1 must send no command at all. A window may be voided by a
    // stray L1 miss (a heartbeat that a loaded machine delays past its timeout flushes L1, the safe
    // reaction of rule 10; one unexplained miss per file run was also seen on Node 22), so each
    // replica gets up to three windows: an L1 hit that talks to Redis fails all three.
    for (const replica of [b, a]) {
      let measured = false;
      for (let window = 0; window < 3 && !measured; window++) {
        await eventually(`replica ${replica.index} to answer from L1`, async () => {
          const before = await commands();
          await ask(replica, content);
          return JSON.stringify(await commands()) === JSON.stringify(before);
        });
        const before = await commands();
        for (let i = 0; i < 20; i++) {
          const seen = await ask(replica, content);
          expect(seen.cache).toBe('HIT');
          expect(seen.text).toBe(first.text);
        }
        measured = JSON.stringify(await commands()) === JSON.stringify(before);
      }
      expect(measured, `replica ${replica.index}: every window of 20 L1 hits sent Redis commands`).toBe(true);
    }
  }, 60_000);
});

describe('fleet coherence on a Redis Cluster', () => {
  let fleet: Fleet;
  let probe: Redis | Cluster;
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 2, clusterMasters: 3, config: FLEET_CONFIG });
    probe = probeRedis(fleet);
  }, 120_000);
  afterAll(async () => {
    probe?.disconnect();
    await fleet?.close();
  });

  test('purges by key and namespace and a refresh reach the other replica, whichever master holds the key', async () => {
    const [a, b] = fleet.replicas as [Replica, Replica];
    // Eight keys spread over the three masters' slots.
    const contents = Array.from({ length: 8 }, (_, i) => `cluster coherence ${i}`);
    const headers = { 'x-sluice-namespace': 'cluster-ns' };
    const firsts = await Promise.all(contents.map((content) => ask(a, content, headers)));
    for (const first of firsts) await inRedis(probe, first);
    for (const [i, content] of contents.entries()) await warm(b, content, firsts[i]?.text ?? '', headers);

    const byKey = contents[0] as string;
    expect((await adminJson(a, 'POST', '/admin/purge', { key: firsts[0]?.key })).body.purged).toBe(1);
    await stopsServing(b, byKey, firsts[0]?.text ?? '', headers);

    const refreshedContent = contents[1] as string;
    const refreshed = await ask(a, refreshedContent, { ...headers, 'cache-control': 'no-cache' });
    await servesWithin1s(b, refreshedContent, 'serve the refreshed answer', (text) => text === refreshed.text, headers);

    expect((await adminJson(a, 'POST', '/admin/purge', { namespace: 'cluster-ns' })).status).toBe(200);
    await Promise.all(
      contents.slice(2).map((content, i) => stopsServing(b, content, firsts[i + 2]?.text ?? '', headers)),
    );
  }, 60_000);
});
