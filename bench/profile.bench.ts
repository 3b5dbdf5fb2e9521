/**
 * Where a request's time goes, without setting anything up: runs one case against a gateway
 * started with `--cpu-prof`, stops it, and prints the top self-time functions of its profile,
 * in µs per request and as a share of the busy (non-idle) time.
 *
 *   npm run bench:profile                       (JSON L1 hit)
 *   npm run bench:profile -- sse-hit            (200-event SSE hit)
 *   npm run bench:profile -- json-hit-traces    (JSON L1 hit, traces on: a span per request exported
 *                                               to a local OTLP/HTTP receiver process, as bench:cache does)
 *   npm run bench:profile -- passthrough        (50-chunk stream, cache-control: no-store)
 *   npm run bench:profile -- passthrough-json   (JSON answer of 50 words, cache-control: no-store)
 *   npm run bench:profile -- capture            (50-chunk stream miss, stored: cache-control: no-cache)
 *   npm run bench:profile -- raw-json           (the baseline: raw node:http writing the JSON hit's bytes)
 *   npm run bench:profile -- raw-sse            (the baseline: raw node:http writing the SSE hit's bytes)
 *   BENCH_SECONDS=N (default 10), BENCH_TOP=N (default 30), BENCH_CONNECTIONS=N (default 32); the profile is
 *   kept under bench/profiles/.
 *   The gateway runs with npm start's defaults (info logs, access log on), its stdout to
 *   .tmp/profile-stdout.log; BENCH_SILENT=1 silences its logs as before.
 *   BENCH_VIEW=total prints inclusive time (the function and what it called) instead of self time.
 *
 *   BENCH_PERF=1 records with Linux perf instead (every thread of the server, the kernel included,
 *   after BENCH_WARMUP seconds of load, default 10, so the JIT has settled): CPU µs per request by
 *   kind of work, then the top symbols. A V8 profile books the time the main thread spends
 *   descheduled inside a native call (writev waking the load generator) to that call; perf does not.
 *   The timed run opens its connections anew, as every benchmark run does: the functions that
 *   saw the last run's connections close are re-optimized in its first second (V8 compiler).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './harness/load.js';
import { repoPath, runBench, startGatewayProcess, startMockProcess, startServerProcess } from './harness/processes.js';
import { heading, machineLine } from './harness/report.js';
import { CHAT_PATH, chatBody, JSON_HEADERS, probe } from './harness/requests.js';
import { type CpuProfile, selfTimes, totalTimes } from './harness/cpu-profile.js';
import { category, monotonicSeconds, perfAvailable, readPerf, startPerf } from './harness/perf-record.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOP = Number(process.env.BENCH_TOP ?? 30);
/** BENCH_CONNECTIONS=1 profiles one request at a time: the CPU on a request's critical path (its latency). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PERF = process.env.BENCH_PERF === '1';
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
/** Names JIT frames for perf (a map file per process under /tmp). */
const PERF_NODE_ARGS = ['--perf-basic-prof-only-functions'];

const CASES: Record<string, { body: string; headers: Record<string, string>; prime: boolean; traces?: true }> = {
  'json-hit': { body: chatBody({ stream: false, label: 'profile-json' }), headers: { 'x-mock-words': '50' }, prime: true },
  'json-hit-traces': {
    body: chatBody({ stream: false, label: 'profile-json' }),
    headers: { 'x-mock-words': '50' },
    prime: true,
    traces: true,
  },
  'sse-hit': { body: chatBody({ stream: true, label: 'profile-sse' }), headers: { 'x-mock-words': '197' }, prime: true },
  passthrough: {
    body: chatBody({ stream: true, label: 'profile-pass' }),
    headers: { 'x-mock-words': '50', 'cache-control': 'no-store' },
    prime: false,
  },
  'passthrough-json': {
    body: chatBody({ stream: false, label: 'profile-pass-json' }),
    headers: { 'x-mock-words': '50', 'cache-control': 'no-store' },
    prime: false,
  },
  capture: {
    body: chatBody({ stream: true, label: 'profile-capture' }),
    headers: { 'x-mock-words': '50', 'cache-control': 'no-cache' },
    prime: false,
  },
};

const name = process.argv[2] ?? 'json-hit';
// A raw-* case profiles the baseline instead: a bare node:http server writing the bytes the
// gateway's hit answers with, so both profiles can be read side by side.
const raw = name.startsWith('raw-');
const chosen = CASES[raw ? `${name.slice(4)}-hit` : name];
if (!chosen) {
  console.error(`unknown case ${name}; one of ${Object.keys(CASES).join(', ')}, raw-json, raw-sse`);
  process.exit(2);
}

await runBench(async () => {
  console.log(`profile bench (${name}${PERF ? ', perf' : ''}): ${machineLine()}`);
  if (PERF && !perfAvailable()) throw new Error('BENCH_PERF=1 needs Linux perf (Debian: apt-get install linux-perf)');
  const dir = repoPath(`bench/profiles/${name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const mock = await startMockProcess();
  const receiver = chosen.traces
    ? await startServerProcess('otlp receiver', repoPath('bench/harness/otlp-receiver-process.mjs'), [])
    : undefined;
  if (!raw && !PERF) process.env.BENCH_PROFILE_DIR = dir;
  // As `npm start` runs it (info logs, access log on, stdout to a file), unless BENCH_SILENT=1.
  const logFile = process.env.BENCH_SILENT === '1' ? undefined : repoPath('.tmp/profile-stdout.log');
  if (logFile) mkdirSync(repoPath('.tmp'), { recursive: true });
  let gateway = await startGatewayProcess(
    raw ? 'sluice' : 'sluice (profiled)',
    { upstream: `${mock.url}/v1`, ...(receiver ? { otelEndpoint: receiver.url } : {}) },
    PERF && !raw ? PERF_NODE_ARGS : [],
    logFile,
  );
  delete process.env.BENCH_PROFILE_DIR;
  const headers = { ...JSON_HEADERS, ...chosen.headers };
  let url = `${gateway.url}${CHAT_PATH}`;
  if (chosen.prime) await probe(url, chosen.body, headers);
  const check = await probe(url, chosen.body, headers);
  console.log(`probe: status ${check.status}, x-sluice-cache ${check.headers['x-sluice-cache']}, ${check.body.byteLength} bytes`);
  if (raw) {
    const file = join(dir, 'answer.body');
    writeFileSync(file, check.body);
    await gateway.stop();
    gateway = await startServerProcess('raw node:http (profiled)', repoPath('bench/harness/raw-server-process.mjs'), [
      file,
      check.headers['content-type'] ?? 'application/octet-stream',
    ], { nodeArgs: PERF ? PERF_NODE_ARGS : ['--cpu-prof', '--cpu-prof-dir', dir] });
    url = `${gateway.url}${CHAT_PATH}`;
  }
  if (PERF) {
    await profileWithPerf(gateway, url, headers, join(dir, 'perf.data'));
    await gateway.stop();
    await mock.stop();
    await receiver?.stop();
    return;
  }
  const result = await runLoad({
    url,
    body: chosen.body,
    headers,
    connections: CONNECTIONS,
    warmupSeconds: 0,
    seconds: SECONDS,
    cpuOf: { sluice: gateway.pid },
  });
  await gateway.stop();
  await mock.stop();
  await receiver?.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written to ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  // Requests during the profile: the load run plus the probes (the profile spans the process's life).
  const requests = result.total + (raw ? 0 : chosen.prime ? 2 : 1);
  const { rows, busyMicros, idleMicros, gcMicros } = selfTimes(profile);
  heading(
    `${result.requestsPerSecond.toFixed(0)} req/s, ${requests} requests; busy ${(busyMicros / requests).toFixed(1)} µs/request (GC ${(gcMicros / requests).toFixed(1)}), idle ${(idleMicros / 1e6).toFixed(1)} s; profile ${join(dir, file)}`,
  );
  const total = process.env.BENCH_VIEW === 'total';
  console.log(`  ${total ? 'total' : ' self'} µs/req   share  function  (location)`);
  for (const row of (total ? totalTimes(profile) : rows).slice(0, TOP)) {
    console.log(
      `  ${(row.micros / requests).toFixed(2).padStart(10)}  ${((100 * row.micros) / busyMicros).toFixed(1).padStart(5)}%  ${row.name}  (${row.location})`,
    );
  }
});

/** BENCH_PERF=1: warm up, then record the server with perf over a timed run, and print where its CPU went. */
async function profileWithPerf(server: { pid: number }, url: string, headers: Record<string, string>, file: string): Promise<void> {
  const load = { url, body: chosen!.body, headers, connections: CONNECTIONS, warmupSeconds: 0 };
  // perf attaches during the warm-up's last second: an idle pause before the timed run would let
  // V8 drop compiled code and spend the run's first second compiling it again.
  const warming = runLoad({ ...load, seconds: WARMUP });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, WARMUP - 1) * 1000));
  const perf = await startPerf(server.pid, file);
  await warming;
  const from = monotonicSeconds();
  const result = await runLoad({ ...load, seconds: SECONDS });
  const to = monotonicSeconds();
  await perf.stop();
  const { totalNanos, rows, mainThreadNanos } = readPerf(file, server.pid, from, to);
  const perRequest = (nanos: number) => (nanos / 1000 / result.total).toFixed(2).padStart(8);
  heading(
    `${result.requestsPerSecond.toFixed(0)} req/s, ${result.total} requests after ${WARMUP} s of warm-up; CPU ${perRequest(totalNanos).trim()} µs/request, all threads and the kernel (main thread ${perRequest(mainThreadNanos).trim()}); ${file}`,
  );
  const kinds = new Map<string, number>();
  for (const row of rows) kinds.set(category(row), (kinds.get(category(row)) ?? 0) + row.nanos);
  console.log('  µs/req   share  kind of work');
  for (const [kind, nanos] of [...kinds].sort((a, b) => b[1] - a[1])) {
    console.log(`${perRequest(nanos)}  ${((100 * nanos) / totalNanos).toFixed(1).padStart(5)}%  ${kind}`);
  }
  console.log('\n  µs/req   share  symbol  (where)');
  for (const row of rows.slice(0, TOP)) {
    console.log(`${perRequest(row.nanos)}  ${((100 * row.nanos) / totalNanos).toFixed(1).padStart(5)}%  ${row.symbol.slice(0, 110)}  (${row.dso})`);
  }
}
