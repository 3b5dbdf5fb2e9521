import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Claim, FlightRelay, type RelayEntry } from '../../src/cache/flight-relay.js';
import { type RedisClusterHandle, type RedisHandle, startRedis, startRedisCluster } from '../helpers/redis-server.js';

/** The Redis side of coalescing across replicas, on a real redis-server (and a real Cluster). */

const head = { status: 200, contentType: 'text/event-stream', headers: {}, stream: true, wantsStreamUsage: false };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function won(claim: Claim): string {
  if (!claim.leader) throw new Error('expected to lead');
  return claim.token;
}

function lostTo(claim: Claim): { token: string; entries: Extract<Claim, { entries: unknown }>['entries'] } {
  if (claim.leader || !('token' in claim)) throw new Error('expected to follow');
  return claim;
}

function relayOn(connect: () => Redis | Cluster, replicaId: string, leaseMs = 600) {
  const commands = connect();
  const reader = connect();
  const relay = new FlightRelay({ commands, reader, keyPrefix: 'test:', replicaId, leaseMs });
  return {
    relay,
    close: () => {
      relay.close();
      commands.disconnect();
      reader.disconnect();
    },
  };
}

/** Follow until the end (or the loss) and collect what came. */
function collect(relay: FlightRelay, key: string, token: string, entries: Parameters<FlightRelay['follow']>[4] = []) {
  const got: RelayEntry[] = [];
  let lost = false;
  const over = new Promise<void>((resolve) => {
    relay.follow(
      key,
      token,
      (entry) => {
        got.push(entry);
        if (entry.type === 'end' || entry.type === 'failed') resolve();
      },
      () => {
        lost = true;
        resolve();
      },
      entries,
    );
  });
  return { got, over, lost: () => lost };
}

function describeRelay(name: string, setup: () => Promise<{ connect: () => Redis | Cluster; stop: () => Promise<void> }>) {
  describe(name, () => {
    let connect: () => Redis | Cluster;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      ({ connect, stop } = await setup());
    }, 60_000);
    afterAll(async () => {
      await stop?.();
    });

    test('one claim wins; a lost claim names the winner and returns its stream so far; a follower reads it all in order', async () => {
      const a = relayOn(connect, 'a');
      const b = relayOn(connect, 'b');
      try {
        const key = `k-${Date.now()}`;
        const token = won(await a.relay.claim(key));
        expect(await a.relay.publish(key, token, { type: 'head', head })).toBe(true);
        expect(await a.relay.publish(key, token, { type: 'data', bytes: Buffer.from('one ') })).toBe(true);
        const lost = lostTo(await b.relay.claim(key));
        expect(lost.token).toBe(token);
        expect(lost.entries).toHaveLength(2);
        const follower = collect(b.relay, key, lost.token, lost.entries);
        // The live part, after the follower began.
        await sleep(50);
        await a.relay.publish(key, token, { type: 'data', bytes: Buffer.from('two') });
        await a.relay.publish(key, token, { type: 'end' });
        await follower.over;
        expect(follower.got.map((e) => e.type)).toEqual(['head', 'data', 'data', 'end']);
        const text = follower.got.map((e) => (e.type === 'data' ? e.bytes.toString() : '')).join('');
        expect(text).toBe('one two');
        // The leader counts the follower present until it stops following.
        expect(await a.relay.renew(key, token)).toBe(1);
      } finally {
        a.close();
        b.close();
      }
    });

    test('fencing: a leader whose lease lapsed cannot write beside the new leader', async () => {
      const a = relayOn(connect, 'a', 300);
      const b = relayOn(connect, 'b', 300);
      try {
        const key = `fence-${Date.now()}`;
        const first = won(await a.relay.claim(key));
        // A leader paused past its lease (no renewal).
        await sleep(450);
        const second = won(await b.relay.claim(key));
        expect(second).not.toBe(first);
        expect(await a.relay.publish(key, first, { type: 'data', bytes: Buffer.from('stale') })).toBe(false);
        expect(await a.relay.renew(key, first)).toBe(-1);
        expect(await b.relay.publish(key, second, { type: 'head', head })).toBe(true);
      } finally {
        a.close();
        b.close();
      }
    });

    test('a lease gone with no end is a dead leader; an end written before the release is never mistaken for one', async () => {
      const a = relayOn(connect, 'a', 300);
      const b = relayOn(connect, 'b', 300);
      try {
        const dead = `dead-${Date.now()}`;
        const deadToken = won(await a.relay.claim(dead));
        await a.relay.publish(dead, deadToken, { type: 'head', head });
        const lost = lostTo(await b.relay.claim(dead));
        const orphan = collect(b.relay, dead, lost.token, lost.entries);
        // The leader dies: nothing renews its lease.
        await orphan.over;
        expect(orphan.lost()).toBe(true);

        const clean = `clean-${Date.now()}`;
        const lead = won(await a.relay.claim(clean));
        const follow = lostTo(await b.relay.claim(clean));
        const follower = collect(b.relay, clean, follow.token, follow.entries);
        await a.relay.publish(clean, lead, { type: 'head', head });
        await a.relay.publish(clean, lead, { type: 'end' });
        await a.relay.release(clean, lead, true);
        await follower.over;
        expect(follower.lost()).toBe(false);
        expect(follower.got.at(-1)?.type).toBe('end');
        // Just after a stored answer, a claim is told to look in the store again, not to lead.
        expect(await b.relay.claim(clean)).toEqual({ leader: false, stored: true });
        await sleep(2200);
        expect((await b.relay.claim(clean)).leader).toBe(true);
      } finally {
        a.close();
        b.close();
      }
    });
  });
}

describeRelay('FlightRelay (standalone)', async () => {
  const redis: RedisHandle = await startRedis();
  return { connect: () => new Redis(redis.url), stop: () => redis.stop() };
});

describeRelay('FlightRelay (3-node cluster)', async () => {
  const cluster: RedisClusterHandle = await startRedisCluster(3);
  const nodes = cluster.nodes.map((node) => {
    const [host, port] = node.replace(/^redis:\/\//, '').split(':');
    return { host: host as string, port: Number(port) };
  });
  return { connect: () => new Cluster(nodes), stop: () => cluster.stop() };
});
