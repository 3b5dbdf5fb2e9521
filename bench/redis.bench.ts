/**
 * Redis (L2) and coalescing, with a real redis-server started for the run:
 *  1. L2 hit latency against L1 hit latency: two gateways on one Redis; an entry written by A is
 *     read by B once from Redis (L2 hit, then copied into B's L1) and then from B's L1.
 *  2. 100 concurrent identical streaming requests while the upstream is slow: upstream calls,
 *     identical and complete streams, outcome headers.
 *  3. Mixed traffic (90% hits, 10% misses) with Redis up, then with Redis killed.
 *
 * Processes: this script is the load generator and also hosts the mock upstream (so it can count
 * upstream calls exactly); each gateway and redis-server run in their own process. Not pinned.
 *   npm run bench:redis            (BENCH_SECONDS=N to change the 10 s per case)
 */
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

await runBench(async () => {
  console.log(`redis bench: ${machineLine()}`);
  const redis = await startRedis();
  const mock = await startMockUpstream();
  try {
    const config = { upstream: `${mock.url}/v1`, redis: { url: redis.url } };
    const a = await startGatewayProcess('sluice A', config);
    const b = await startGatewayProcess('sluice B', config);
    console.log(
      `redis ${redis.url}, sluice A pid ${a.pid}, sluice B pid ${b.pid}, load generator + mock pid ${process.pid}`,
    );

    await l2VersusL1(a.url, b.url);
    await coalescing(a.url, mock.stats);
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
