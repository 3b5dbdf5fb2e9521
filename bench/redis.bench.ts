/**
 * Redis (L2) and coalescing, with a real redis-server started for the run:
 *  1. L2 hit latency against L1 hit latency: two gateways on one Redis; an entry written by A is
 *     read by B once from Redis (L2 hit, then copied into B's L1) and then from B's L1.
 *  2. 100 concurrent identical streaming requests while the upstream is slow: upstream calls,
 *     identical and complete streams, outcome headers.
 *  3. Mixed traffic (90% hits, 10% misses) with Redis up, then with Redis killed.
 *  4. An admin purge of 1,000,000 entries (by namespace, then everything): time, count, and the
 *     latency of Redis (PING) and of live requests (each one an L2 miss and write) meanwhile.
 *
 * Processes: this script is the load generator and also hosts the mock upstream (so it can count
 * upstream calls exactly); each gateway and redis-server run in their own process. Not pinned.
 *   npm run bench:redis            (BENCH_SECONDS=N to change the 10 s per case)
 */
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { startRedis } from '../test/helpers/redis-server.js';
import { startMockUpstream } from '../test/mock-upstream/index.js';
import { runLoad } from './harness/load.js';
import { runBench, startGatewayProcess } from './harness/processes.js';
import { goal, heading, machineLine, printLoadTable } from './harness/report.js';
import { CHAT_PATH, chatBody, JSON_HEADERS, probe, sleep } from './harness/requests.js';
import { quantile } from './harness/ttfb.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 32;
const LATENCY_KEYS = 500;
const FOLLOWERS = 100;
const PURGE_ENTRIES = Number(process.env.BENCH_PURGE_ENTRIES ?? 1_000_000);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

await runBench(async () => {
  console.log(`redis bench: ${machineLine()}`);
  const redis = await startRedis();
  const mock = await startMockUpstream();
  try {
    const config = { upstream: `${mock.url}/v1`, redis: { url: redis.url }, adminToken: ADMIN_TOKEN };
    const a = await startGatewayProcess('sluice A', config);
    const b = await startGatewayProcess('sluice B', config);
    console.log(
      `redis ${redis.url}, sluice A pid ${a.pid}, sluice B pid ${b.pid}, load generator + mock pid ${process.pid}`,
    );

    await l2VersusL1(a.url, b.url);
    await coalescing(a.url, mock.stats);
    await bulkPurge(a.url, redis.port, 'namespace');
    await bulkPurge(a.url, redis.port, 'all');
    await mixedTraffic(a.url, a.pid, () => redis.kill());
  } finally {
    await mock.close();
    await redis.stop();
  }
});

async function l2VersusL1(writerUrl: string, readerUrl: string): Promise<void> {
  heading(
    `L2 hit vs L1 hit: ${LATENCY_KEYS} stream entries (50 chunks) written by A, read twice by B, sequential`,
  );
  const headers = { ...JSON_HEADERS, 'x-mock-words': '50' };
  const bodies = Array.from({ length: LATENCY_KEYS }, (_, i) => chatBody({ stream: true, label: `l2-${i}` }));
  for (const body of bodies) await probe(`${writerUrl}${CHAT_PATH}`, body, headers);
  // The Redis write finishes after A's response ended; give the last ones time to land.
  await sleep(500);

  const agent = new Agent({ connections: 1 });
  const timed = async (body: string): Promise<{ ms: number; outcome: string }> => {
    const started = performance.now();
    const response = await request(`${readerUrl}${CHAT_PATH}`, {
      method: 'POST',
      body,
      headers,
      dispatcher: agent,
    });
    await response.body.arrayBuffer();
    return {
      ms: performance.now() - started,
      outcome: String(response.headers['x-sluice-cache']),
    };
  };
  // Warm B's code paths on keys outside the measured set.
  for (let i = 0; i < 100; i++) await timed(chatBody({ stream: true, label: `warm-${i % 10}` }));
  const l2: number[] = [];
  const l1: number[] = [];
  const outcomes = new Map<string, number>();
  for (const body of bodies) {
    const first = await timed(body);
    const second = await timed(body);
    l2.push(first.ms);
    l1.push(second.ms);
    const label = `${first.outcome}/${second.outcome}`;
    outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
  }
  await agent.close();
  l1.sort((x, y) => x - y);
  l2.sort((x, y) => x - y);
  const p50 = (v: number[]) => quantile(v, 0.5);
  const p99 = (v: number[]) => quantile(v, 0.99);
  console.log(
    `  outcomes (first read / second read): ${[...outcomes].map(([k, n]) => `${k} x${n}`).join(', ')}`,
  );
  console.log(
    `  L1 hit (B, second read)  p50 ${p50(l1).toFixed(3)} ms  p99 ${p99(l1).toFixed(3)} ms  (base)`,
  );
  console.log(
    `  L2 hit (B, first read)   p50 ${p50(l2).toFixed(3)} ms  p99 ${p99(l2).toFixed(3)} ms  ` +
      `(${(p50(l2) / p50(l1)).toFixed(2)}x p50, +${(p50(l2) - p50(l1)).toFixed(3)} ms; ${(p99(l2) / p99(l1)).toFixed(2)}x p99)`,
  );
}

async function coalescing(url: string, stats: { requests: number }): Promise<void> {
  heading(`${FOLLOWERS} concurrent identical streaming requests, upstream 20 words 20 ms apart`);
  const body = chatBody({ stream: true, label: `coalesce-${Date.now()}` });
  const headers = {
    ...JSON_HEADERS,
    'x-mock-words': '20',
    'x-mock-delay-ms': '20',
  };
  const agent = new Agent({ connections: FOLLOWERS });
  const before = stats.requests;
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: FOLLOWERS }, async () => {
      const response = await request(`${url}${CHAT_PATH}`, {
        method: 'POST',
        body,
        headers,
        dispatcher: agent,
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      return {
        status: response.statusCode,
        outcome: String(response.headers['x-sluice-cache']),
        bytes,
      };
    }),
  );
  const elapsed = performance.now() - started;
  await agent.close();
  const upstreamCalls = stats.requests - before;
  const reference = answers[0]!.bytes;
  const identical = answers.every((a) => a.bytes.equals(reference));
  const complete = answers.filter(
    (a) => a.status === 200 && a.bytes.toString('utf8').endsWith('data: [DONE]\n\n'),
  ).length;
  const outcomes = new Map<string, number>();
  for (const a of answers) outcomes.set(a.outcome, (outcomes.get(a.outcome) ?? 0) + 1);
  console.log(`  upstream calls: ${upstreamCalls}`);
  console.log(
    `  identical bodies: ${identical ? 'yes' : 'NO'} (${reference.byteLength} bytes each), complete streams: ${complete}/${FOLLOWERS}`,
  );
  console.log(
    `  outcomes: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}  (all done in ${elapsed.toFixed(0)} ms)`,
  );
  goal('exactly 1 upstream call', upstreamCalls === 1, `${upstreamCalls}`);
  const misses = outcomes.get('MISS') ?? 0;
  const coalesced = outcomes.get('COALESCED') ?? 0;
  goal(
    `1 MISS + ${FOLLOWERS - 1} COALESCED`,
    misses === 1 && coalesced === FOLLOWERS - 1,
    `${misses} MISS, ${coalesced} COALESCED`,
  );
}

async function mixedTraffic(url: string, pid: number, killRedis: () => Promise<void>): Promise<void> {
  const hitBodies = Array.from({ length: 10 }, (_, i) => chatBody({ stream: true, label: `mixed-hit-${i}` }));
  const headers = { ...JSON_HEADERS, 'x-mock-words': '50' };
  for (const body of hitBodies) await probe(`${url}${CHAT_PATH}`, body, headers);
  let counter = 0;
  let run = 0;
  // Every 10th request a fresh key (a miss that goes upstream and is written to L1 and Redis).
  const setupRequest = <R extends { body?: string | Buffer }>(req: R): R => {
    counter++;
    req.body =
      counter % 10 === 0
        ? chatBody({ stream: true, label: `mixed-miss-${run}-${counter}` })
        : hitBodies[counter % 10];
    return req;
  };
  const load = () =>
    runLoad({
      url: `${url}${CHAT_PATH}`,
      headers,
      connections: CONNECTIONS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
      setupRequest,
      cpuOf: { 'load gen + mock': process.pid, sluice: pid },
    });
  heading(
    `mixed traffic, 90% hits / 10% misses (50-chunk streams), ${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up`,
  );
  run = 1;
  const up = await load();
  await killRedis();
  run = 2;
  const down = await load();
  printLoadTable([
    { name: 'redis up', result: up },
    { name: 'redis down (killed)', result: down },
  ]);
  const after = await probe(`${url}${CHAT_PATH}`, chatBody({ stream: true, label: 'after-kill' }), headers);
  console.log(
    `  a new request with redis down: status ${after.status}, x-sluice-cache ${after.headers['x-sluice-cache']}`,
  );
}

/**
 * Seeds PURGE_ENTRIES small entry keys (and their namespace index) with a Lua script in chunks,
 * then purges them through the admin API while a PING loop and a loop of live requests (unique:
 * each an L1 miss, an L2 miss, an upstream call and an L2 write) run beside it.
 */
async function bulkPurge(url: string, redisPort: number, by: 'namespace' | 'all'): Promise<void> {
  heading(`admin purge of ${PURGE_ENTRIES} entries (${by === 'all' ? 'everything: SCAN + UNLINK' : 'by namespace: SSCAN + UNLINK'}), live traffic beside it`);
  const client = new Redis(redisPort, { host: '127.0.0.1' });
  const seedStarted = performance.now();
  const script = `
    for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
      local key = 'bulk-' .. i
      redis.call('SET', 'sluice:e:' .. key, 'x', 'PX', 3600000)
      redis.call('SADD', 'sluice:ns:bulk', key)
    end
    redis.call('PEXPIRE', 'sluice:ns:bulk', 3600000)
    return 1`;
  for (let from = 1; from <= PURGE_ENTRIES; from += 20_000) {
    await client.eval(script, 0, String(from), String(Math.min(PURGE_ENTRIES, from + 19_999)));
  }
  console.log(`  seeded ${PURGE_ENTRIES} keys in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const live = async (label: string, durations: number[], until: () => boolean) => {
    for (let i = 0; !until(); i++) {
      const started = performance.now();
      const result = await probe(`${url}${CHAT_PATH}`, chatBody({ stream: false, label: `${label}-${i}` }), JSON_HEADERS);
      if (result.status !== 200) throw new Error(`live request failed with ${result.status}`);
      durations.push(performance.now() - started);
    }
  };
  const before: number[] = [];
  const quietUntil = performance.now() + 2_000;
  await live(`before-${by}`, before, () => performance.now() > quietUntil);

  const pinger = new Redis(redisPort, { host: '127.0.0.1' });
  let done = false;
  const pings: number[] = [];
  const during: number[] = [];
  const pingLoop = (async () => {
    while (!done) {
      const started = performance.now();
      await pinger.ping();
      pings.push(performance.now() - started);
    }
  })();
  const liveLoop = live(`during-${by}`, during, () => done);
  const started = performance.now();
  const response = await request(`${url}/admin/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(by === 'all' ? { all: true } : { namespace: 'bulk' }),
  });
  const body = (await response.body.json()) as { purged?: number };
  const tookS = (performance.now() - started) / 1000;
  done = true;
  await Promise.all([pingLoop, liveLoop]);
  pinger.disconnect();
  const left = await client.dbsize();
  client.disconnect();
  const q = (values: number[], p: number) => quantile([...values].sort((x, y) => x - y), p).toFixed(1);
  console.log(
    `  status ${response.statusCode}, purged ${String(body.purged)} in ${tookS.toFixed(1)} s (${Math.round((body.purged ?? 0) / tookS)} entries/s), ${left} keys left`,
  );
  console.log(`  redis PING during the purge: p50 ${q(pings, 0.5)} ms  p99 ${q(pings, 0.99)} ms  max ${Math.max(...pings).toFixed(1)} ms  n=${pings.length}`);
  console.log(`  live request (miss + write) before: p50 ${q(before, 0.5)} ms  p99 ${q(before, 0.99)} ms  n=${before.length}`);
  console.log(`  live request (miss + write) during: p50 ${q(during, 0.5)} ms  p99 ${q(during, 0.99)} ms  n=${during.length}`);
  goal('a purge of 1,000,000 entries completes and reports its count', response.statusCode === 200 && body.purged !== undefined && body.purged >= PURGE_ENTRIES, `status ${response.statusCode}, purged ${String(body.purged)}`);
}
