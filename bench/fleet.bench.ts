/**
 * The fleet: two gateway processes (A and B) on one real redis-server, the mock upstream in this
 * process (so it counts upstream calls exactly).
 *  1. Follower TTFB: a leader streams from A (20 words, 25 ms apart); once its first byte came, a
 *     follower asks A (in-process follower, the baseline) and another asks B (cross-replica
 *     follower, through the Redis Stream), in alternating order; time to the first body byte.
 *  2. Follower throughput: a large fast answer (N words, no delay); both followers join before the
 *     head; time from the follower's first byte to its end, and MB/s.
 *  3. Redis round trips per L1 hit and per L2 hit (INFO commandstats deltas on the server), and per
 *     miss that leads a flight (the relay's lease, stream writes, renewals, release).
 *   npm run bench:fleet          (BENCH_ROUNDS=N for section 1, default 100)
 */
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { startRedis } from '../test/helpers/redis-server.js';
import { startMockUpstream } from '../test/mock-upstream/index.js';
import { runBench, startGatewayProcess } from './harness/processes.js';
import { goal, heading, machineLine } from './harness/report.js';
import { CHAT_PATH, chatBody, JSON_HEADERS, probe, sleep } from './harness/requests.js';
import { quantile } from './harness/ttfb.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const THROUGHPUT_ROUNDS = 10;
const THROUGHPUT_WORDS = 20_000;
const HIT_KEYS = 200;

interface Timed {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  outcome: string;
  complete: boolean;
}

const agent = new Agent({ connections: 64 });

/** One request; the time to its first body byte (`first`, as soon as it came) and to its end (from when it was sent). */
function timed(url: string, body: string, headers: Record<string, string>): { first: Promise<number>; done: Promise<Timed> } {
  let firstByte!: (ms: number) => void;
  const first = new Promise<number>((resolve) => {
    firstByte = resolve;
  });
  const done = (async () => {
    const started = performance.now();
    const response = await request(`${url}${CHAT_PATH}`, { method: 'POST', body, headers: { ...JSON_HEADERS, ...headers }, dispatcher: agent });
    let ttfbMs = -1;
    let bytes = 0;
    let tail = '';
    for await (const chunk of response.body) {
      if (ttfbMs < 0) {
        ttfbMs = performance.now() - started;
        firstByte(ttfbMs);
      }
      bytes += (chunk as Buffer).byteLength;
      tail = (tail + (chunk as Buffer).toString('utf8')).slice(-32);
    }
    firstByte(ttfbMs);
    return {
      ttfbMs,
      totalMs: performance.now() - started,
      bytes,
      outcome: String(response.headers['x-sluice-cache']),
      complete: tail.endsWith('data: [DONE]\n\n'),
    };
  })();
  return { first, done };
}

const p = (values: number[], q: number) => quantile([...values].sort((x, y) => x - y), q);
const ms = (v: number) => `${v.toFixed(3)} ms`;

await runBench(async () => {
  console.log(`fleet bench: ${machineLine()}`);
  const redis = await startRedis();
  const mock = await startMockUpstream();
  const info = new Redis(redis.url);
  try {
    const config = { upstream: `${mock.url}/v1`, redis: { url: redis.url } };
    const a = await startGatewayProcess('sluice A', config);
    const b = await startGatewayProcess('sluice B', config);
    console.log(`redis ${redis.url}, sluice A pid ${a.pid}, sluice B pid ${b.pid}, load generator + mock pid ${process.pid}`);

    await followerTtfb(a.url, b.url, mock.stats);
    await followerThroughput(a.url, b.url, mock.stats);
    await roundTrips(a.url, b.url, info);
  } finally {
    info.disconnect();
    await agent.close();
    await mock.close();
    await redis.stop();
  }
});

async function followerTtfb(a: string, b: string, stats: { requests: number }): Promise<void> {
  heading(`follower TTFB: ${ROUNDS} rounds; leader on A streams 20 words 25 ms apart, followers join after its first byte`);
  const headers = { 'x-mock-words': '20', 'x-mock-delay-ms': '25' };
  // Warm both processes' paths (JIT, connections) outside the measured rounds.
  for (let i = 0; i < 20; i++) await round(`warm-${Date.now()}-${i}`, i % 2 === 0);
  const local: number[] = [];
  const remote: number[] = [];
  const outcomes = new Map<string, number>();
  let incomplete = 0;
  const before = stats.requests;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round(`ttfb-${Date.now()}-${i}`, i % 2 === 0);
    local.push(r.local.ttfbMs);
    remote.push(r.remote.ttfbMs);
    for (const t of [r.local, r.remote]) {
      outcomes.set(t.outcome, (outcomes.get(t.outcome) ?? 0) + 1);
      if (!t.complete) incomplete++;
    }
  }
  const calls = stats.requests - before;
  console.log(`  upstream calls: ${calls} for ${ROUNDS} rounds; follower outcomes: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}; incomplete: ${incomplete}`);
  console.log(`  in-process follower (A)     p50 ${ms(p(local, 0.5))}  p95 ${ms(p(local, 0.95))}  (base)`);
  console.log(
    `  cross-replica follower (B)  p50 ${ms(p(remote, 0.5))}  p95 ${ms(p(remote, 0.95))}  ` +
      `(+${ms(p(remote, 0.5) - p(local, 0.5))} p50, ${(p(remote, 0.5) / p(local, 0.5)).toFixed(2)}x; +${ms(p(remote, 0.95) - p(local, 0.95))} p95)`,
  );
  goal('cross-replica follower TTFB p50 within 2 ms of in-process', p(remote, 0.5) - p(local, 0.5) <= 2, `+${ms(p(remote, 0.5) - p(local, 0.5))}`);

  async function round(label: string, localFirst: boolean): Promise<{ local: Timed; remote: Timed }> {
    const body = chatBody({ stream: true, label });
    let firstByte!: () => void;
    const leaderStarted = new Promise<void>((resolve) => {
      firstByte = resolve;
    });
    const leader = (async () => {
      const response = await request(`${a}${CHAT_PATH}`, { method: 'POST', body, headers: { ...JSON_HEADERS, ...headers }, dispatcher: agent });
      for await (const _ of response.body) firstByte();
    })();
    await leaderStarted;
    // One follower at a time: the second is sent once the first had its first byte, both while the leader streams.
    const [firstUrl, secondUrl] = localFirst ? [a, b] : [b, a];
    const one = timed(firstUrl, body, headers);
    await one.first;
    const two = timed(secondUrl, body, headers);
    const [oneT, twoT] = await Promise.all([one.done, two.done]);
    const [localT, remoteT] = localFirst ? [oneT, twoT] : [twoT, oneT];
    await leader;
    return { local: localT, remote: remoteT };
  }
}

async function followerThroughput(a: string, b: string, stats: { requests: number }): Promise<void> {
  heading(`follower throughput: ${THROUGHPUT_ROUNDS} rounds of a ${THROUGHPUT_WORDS}-word answer, no delay; followers join before the head`);
  const leaderHeaders = { 'x-mock-words': String(THROUGHPUT_WORDS), 'x-mock-delay-ms': '0', 'x-mock-first-byte-delay-ms': '300' };
  const rows = { leader: [] as number[], local: [] as number[], remote: [] as number[] };
  let bytes = 0;
  const before = stats.requests;
  for (let i = 0; i < THROUGHPUT_ROUNDS; i++) {
    const body = chatBody({ stream: true, label: `throughput-${Date.now()}-${i}` });
    const leader = timed(a, body, leaderHeaders).done;
    await sleep(100);
    const [lead, local, remote] = await Promise.all([leader, timed(a, body, leaderHeaders).done, timed(b, body, leaderHeaders).done]);
    bytes = lead.bytes;
    if (!(lead.complete && local.complete && remote.complete && local.bytes === lead.bytes && remote.bytes === lead.bytes)) {
      console.log(`  round ${i}: INCOMPLETE (${lead.bytes}/${local.bytes}/${remote.bytes} bytes)`);
    }
    rows.leader.push(lead.totalMs - lead.ttfbMs);
    rows.local.push(local.totalMs - local.ttfbMs);
    rows.remote.push(remote.totalMs - remote.ttfbMs);
  }
  console.log(`  upstream calls: ${stats.requests - before} for ${THROUGHPUT_ROUNDS} rounds; ${bytes} bytes per answer`);
  const mbps = (msTaken: number) => (bytes / 1e6 / (msTaken / 1000)).toFixed(1);
  for (const [name, values] of [
    ['leader (A)', rows.leader],
    ['in-process follower (A)', rows.local],
    ['cross-replica follower (B)', rows.remote],
  ] as const) {
    console.log(`  ${name.padEnd(28)} first byte → end p50 ${ms(p(values, 0.5))} (${mbps(p(values, 0.5))} MB/s)`);
  }
}

/** Calls per command since the last snapshot, the INFO calls themselves left out. */
async function commandCalls(info: Redis): Promise<Map<string, number>> {
  const text = await info.info('commandstats');
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

function delta(before: Map<string, number>, after: Map<string, number>): { total: number; by: string } {
  let total = 0;
  const parts: string[] = [];
  for (const [name, n] of after) {
    if (name === 'info') continue;
    const d = n - (before.get(name) ?? 0);
    if (d > 0) {
      total += d;
      parts.push(`${name} ${d}`);
    }
  }
  return { total, by: parts.join(', ') || 'none' };
}

async function roundTrips(a: string, b: string, info: Redis): Promise<void> {
  heading(`Redis commands per request (INFO commandstats deltas over ${HIT_KEYS} keys)`);
  const headers = { 'x-mock-words': '20' };
  const bodies = Array.from({ length: HIT_KEYS }, (_, i) => chatBody({ stream: true, label: `rt-${Date.now()}-${i}` }));
  // Let the relay's connections go quiet (no flight in progress) before counting.
  await sleep(500);
  const s0 = await commandCalls(info);
  for (const body of bodies) await probe(`${a}${CHAT_PATH}`, body, headers);
  await sleep(1000);
  const s1 = await commandCalls(info);
  for (const body of bodies) await probe(`${b}${CHAT_PATH}`, body, headers);
  const s2 = await commandCalls(info);
  for (const body of bodies) await probe(`${b}${CHAT_PATH}`, body, headers);
  const s3 = await commandCalls(info);
  const miss = delta(s0, s1);
  const l2 = delta(s1, s2);
  const l1 = delta(s2, s3);
  const per = (n: number) => (n / HIT_KEYS).toFixed(2);
  console.log(`  per miss that leads a flight (A): ${per(miss.total)} commands (${miss.by})`);
  console.log(`  per L2 hit (B, first read):       ${per(l2.total)} commands (${l2.by})`);
  console.log(`  per L1 hit (B, second read):      ${per(l1.total)} commands (${l1.by})`);
  goal('0 Redis commands per L1 hit', l1.total === 0, `${per(l1.total)}`);
}
