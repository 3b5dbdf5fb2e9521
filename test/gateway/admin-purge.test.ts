import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RedisStore } from '../../src/cache/redis-store.js';
import { IncompletePurgeError } from '../../src/cache/store.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, eventually, type Harness, startHarness } from './harness.js';

/**
 * Issue 23, part 2: admin work runs off the live traffic's request budget. A purge of many
 * entries completes and reports its count, in batches that never hold Redis for long; purges
 * never feed the circuit breaker; one that could not finish says so, with what it removed.
 */

const TOKEN = 'admin-token-0123456789abcdef';
const PREFIX = 'sluice:';

let mock: MockUpstream;
let redis: RedisHandle;
let probe: Redis;
let gateway: Harness;

beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis();
  probe = new Redis(redis.port, { host: '127.0.0.1' });
  // The live budget stays the 50 ms default: what the operator runs in production.
  gateway = await startHarness({ redis: { url: redis.url }, adminToken: TOKEN }, mock);
  await gateway.gateway.context.redis?.ready();
}, 60_000);
afterAll(async () => {
  probe?.disconnect();
  await gateway?.close();
  await redis?.stop();
  await mock?.close();
});

/**
 * `count` small entry keys in namespace `ns`, with the namespace index set a purge reads, written
 * by a Lua script in chunks (fast, and no chunk holds Redis for long). Their bytes are not valid
 * entries, which a purge never reads.
 */
async function seed(ns: string, count: number, tag = 'seed'): Promise<void> {
  const script = `
    local from, to, ns, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
    for i = from, to do
      local key = ns .. '-' .. i
      redis.call('SET', prefix .. 'e:' .. key, 'x', 'PX', 600000)
      redis.call('SADD', prefix .. 'ns:' .. ns, key)
      redis.call('SADD', prefix .. 'tag:' .. ARGV[5], key)
    end
    redis.call('PEXPIRE', prefix .. 'ns:' .. ns, 600000)
    redis.call('PEXPIRE', prefix .. 'tag:' .. ARGV[5], 600000)
    return to - from + 1`;
  const chunk = 20_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await probe.eval(script, 0, String(from), String(to), ns, PREFIX, tag);
  }
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function breakerState(): Promise<unknown> {
  return ((await admin('GET', '/admin/stats')).body.l2 as { state: string }).state;
}

/**
 * Every purge command Redis ran since resetSlowLog (its slow log, set to keep them all): how many
 * keys each touched, and how long Redis itself ran it. The first is what holds Redis (a batch of
 * 1,000 small keys runs well under 1 ms on an idle machine); the second is also stretched on a
 * loaded one, where the server is sometimes descheduled mid-command.
 */
async function purgeCommands(): Promise<{ keys: number; ms: number }[]> {
  const log = (await probe.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][];
  return log
    .filter((entry) => ['unlink', 'del'].includes(String(entry[3][0]).toLowerCase()))
    .map((entry) => {
      const args = entry[3].map(String);
      // The slow log keeps 32 arguments, the last one saying how many more there were.
      const more = /^\.\.\. \((\d+) more arguments\)$/.exec(args[args.length - 1] ?? '');
      return { keys: more ? args.length - 2 + Number(more[1]) : args.length - 1, ms: entry[2] / 1000 };
    });
}

async function resetSlowLog(): Promise<void> {
  await probe.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '100000');
  await probe.call('SLOWLOG', 'RESET');
}

function describeBatches(commands: { keys: number; ms: number }[]): string {
  const longest = Math.max(0, ...commands.map((c) => c.ms));
  return `${commands.length} UNLINKs of at most ${Math.max(0, ...commands.map((c) => c.keys))} keys, longest ${longest} ms in Redis`;
}

/** Longest PING round trip while `during` runs (printed: on a loaded machine it mostly measures the machine). */
async function worstPing<T>(during: Promise<T>): Promise<{ result: T; worstMs: number; pings: number }> {
  const pinger = new Redis(redis.port, { host: '127.0.0.1' });
  let done = false;
  let worstMs = 0;
  let pings = 0;
  const loop = (async () => {
    while (!done) {
      const started = performance.now();
      await pinger.ping();
      worstMs = Math.max(worstMs, performance.now() - started);
      pings++;
    }
  })();
  try {
    const result = await during;
    return { result, worstMs, pings };
  } finally {
    done = true;
    await loop;
    pinger.disconnect();
  }
}

describe('admin purges off the request budget', () => {
  test('purges and the fleet figures run on their own connection, never the live one, and a view is a few reads', async () => {
    await seed('own-conn', 5_000);
    await resetSlowLog();
    // A live request: its lookup (GET) runs on the live connection.
    await (await gateway.post('/v1/chat/completions', chatBody('live request beside admin work'))).text();
    const [purged, stats] = await Promise.all([
      admin('POST', '/admin/purge', { namespace: 'own-conn' }),
      admin('GET', '/admin/stats'),
    ]);
    expect(purged.status).toBe(200);
    expect(purged.body.purged).toBe(5_000);
    expect(stats.body.fleet).toHaveProperty('replicas');
    const log = (await probe.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[], string, string][];
    const command = (entry: (typeof log)[number]) => String(entry[3][0]).toLowerCase();
    const live = new Set(
      log.filter((entry) => command(entry) === 'get' && String(entry[3][1]).startsWith(`${PREFIX}e:`)).map((entry) => entry[4]),
    );
    expect(live.size).toBe(1);
    const adminWork = log.filter((entry) => ['sscan', 'srem', 'unlink', 'hgetall'].includes(command(entry)));
    expect(adminWork.length).toBeGreaterThan(0);
    expect(adminWork.filter((entry) => live.has(entry[4])).map(command)).toEqual([]);
    // The fleet view: a few dozen reads at most, not one per minute of retention.
    expect(log.filter((entry) => command(entry) === 'hgetall').length).toBeLessThanOrEqual(30);
    expect(await breakerState()).toBe('closed');
  }, 60_000);

  test('a purge of 200,000 entries by namespace completes and reports its count; Redis is never held long', async () => {
    const count = 200_000;
    await seed('bulk', count);
    // A live request during the purge: served, and the breaker stays closed.
    const live = chatBody('live request during a bulk purge');
    await (await gateway.post('/v1/chat/completions', live)).text();
    await resetSlowLog();
    const started = Date.now();
    const purging = admin('POST', '/admin/purge', { namespace: 'bulk' });
    const liveDuring = await gateway.post('/v1/chat/completions', live);
    expect(liveDuring.status).toBe(200);
    await liveDuring.text();
    const { result, worstMs, pings } = await worstPing(purging);
    const tookMs = Date.now() - started;
    expect(result.status).toBe(200);
    expect(result.body.purged).toBe(count);
    expect(await probe.exists(`${PREFIX}e:bulk-1`, `${PREFIX}e:bulk-${count}`, `${PREFIX}ns:bulk`)).toBe(0);
    expect(await breakerState()).toBe('closed');
    // Batches of about 1,000 keys (SCAN's COUNT is a hint, a batch may hold a few more): no purge command holds Redis for long (one UNLINK of 200,000 would).
    const batches = await purgeCommands();
    expect(Math.max(...batches.map((c) => c.keys))).toBeLessThanOrEqual(1_100);
    expect(batches.reduce((sum, c) => sum + c.keys, 0)).toBeGreaterThanOrEqual(count);
    console.log(
      `purge of ${count} by namespace: ${tookMs} ms; worst PING ${worstMs.toFixed(1)} ms over ${pings} pings; ` +
        describeBatches(batches),
    );
  }, 120_000);

  test('a purge of everything (SCAN + UNLINK) of 200,000 entries completes and reports its count', async () => {
    const count = 200_000;
    await seed('all', count);
    const existing = (await probe.keys(`${PREFIX}e:*`)).length - count;
    await resetSlowLog();
    const { result, worstMs } = await worstPing(admin('POST', '/admin/purge', { all: true }));
    expect(result.status).toBe(200);
    expect(result.body.purged).toBe(count + existing);
    // Nothing of the cache is left (the fleet's figures, under their own hash tag, are not the cache).
    expect(await probe.keys(`${PREFIX}*`)).toEqual([]);
    const batches = await purgeCommands();
    expect(Math.max(...batches.map((c) => c.keys))).toBeLessThanOrEqual(1_100);
    console.log(
      `purge of everything (${count + existing}): worst PING ${worstMs.toFixed(1)} ms; ` +
        describeBatches(batches),
    );
  }, 120_000);

  test('two concurrent purges do not open the breaker, and both complete', async () => {
    await seed('one', 50_000, 'one-tag');
    await seed('two', 50_000, 'two-tag');
    const [first, second, third] = await Promise.all([
      admin('POST', '/admin/purge', { namespace: 'one' }),
      admin('POST', '/admin/purge', { tag: 'two-tag' }),
      admin('GET', '/admin/entries?limit=100'),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(third.status).toBe(200);
    expect(first.body.purged).toBe(50_000);
    expect(second.body.purged).toBe(50_000);
    expect(await breakerState()).toBe('closed');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).not.toMatch(/sluice_store_errors_total\{[^}]*op="purge"[^}]*\} [1-9]/);
  }, 120_000);

  test('a purge that could not finish says so, with what it removed, in the OpenAI error shape', async () => {
    const count = 200_000;
    await seed('stuck', count);
    const before = await probe.dbsize();
    const purging = admin('POST', '/admin/purge', { namespace: 'stuck' });
    // Once the purge is under way, Redis stops taking writes for longer than the command timeout.
    await eventually(async () => (await probe.dbsize()) < before - 2_000, 20_000);
    await probe.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    const result = await purging;
    expect([503, 504]).toContain(result.status);
    const error = result.body.error as { code: string; message: string; type: string };
    expect(error.code).toBe('purge_incomplete');
    expect(error.message).toMatch(/after removing \d+ entries/);
    const removed = result.body.purged as number;
    expect(removed).toBeGreaterThan(0);
    expect(removed).toBeLessThan(count);
    await probe.call('CLIENT', 'UNPAUSE');
    // Running it again removes the rest. The batch whose UNLINK timed out may still have run once
    // Redis resumed: the report is what was seen removed, never more (SSCAN's COUNT is a hint, so
    // that batch may hold a little more than 1,000 keys).
    const again = await admin('POST', '/admin/purge', { namespace: 'stuck' });
    expect(again.status).toBe(200);
    const total = removed + (again.body.purged as number);
    expect(total).toBeLessThanOrEqual(count);
    expect(total).toBeGreaterThanOrEqual(count - 3_000);
    expect(await probe.exists(`${PREFIX}ns:stuck`)).toBe(0);
    expect(await breakerState()).toBe('closed');
  }, 120_000);
});

describe('RedisStore purge deadline', () => {
  test('a purge stops between batches at its deadline and reports what it removed', async () => {
    const store = new RedisStore({ url: redis.url });
    await store.ready();
    try {
      await seed('deadline', 5_000);
      const late = store.purge({ namespace: 'deadline' }, { deadline: Date.now() - 1 });
      await expect(late).rejects.toBeInstanceOf(IncompletePurgeError);
      await expect(late).rejects.toMatchObject({ removed: 0, timedOut: true, code: 'STORE_TIMEOUT' });
      expect(await probe.scard(`${PREFIX}ns:deadline`)).toBe(5_000);
      expect(await store.purge({ namespace: 'deadline' }, { deadline: Date.now() + 60_000 })).toBe(5_000);
    } finally {
      await store.close();
    }
  }, 60_000);
});
