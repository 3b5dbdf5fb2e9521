/**
 * Where a request's time goes, without setting anything up: runs one case against a gateway
 * started with `--cpu-prof`, stops it, and prints the top self-time functions of its profile,
 * in µs per request and as a share of the busy (non-idle) time.
 *
 *   npm run bench:profile                       (JSON L1 hit)
 *   npm run bench:profile -- sse-hit            (200-event SSE hit)
 *   npm run bench:profile -- passthrough        (50-chunk stream, cache-control: no-store)
 *   npm run bench:profile -- passthrough-json   (JSON answer of 50 words, cache-control: no-store)
 *   npm run bench:profile -- capture            (50-chunk stream miss, stored: cache-control: no-cache)
 *   npm run bench:profile -- raw-json           (the baseline: raw node:http writing the JSON hit's bytes)
 *   npm run bench:profile -- raw-sse            (the baseline: raw node:http writing the SSE hit's bytes)
 *   BENCH_SECONDS=N (default 10), BENCH_TOP=N (default 30), BENCH_CONNECTIONS=N (default 32); the profile is
 *   kept under bench/profiles/.
 *   BENCH_VIEW=total prints inclusive time (the function and what it called) instead of self time.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './harness/load.js';
import { repoPath, runBench, startGatewayProcess, startMockProcess, startServerProcess } from './harness/processes.js';
import { heading, machineLine } from './harness/report.js';
import { CHAT_PATH, chatBody, JSON_HEADERS, probe } from './harness/requests.js';
import { type CpuProfile, selfTimes, totalTimes } from './harness/cpu-profile.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOP = Number(process.env.BENCH_TOP ?? 30);
/** BENCH_CONNECTIONS=1 profiles one request at a time: the CPU on a request's critical path (its latency). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const CASES: Record<string, { body: string; headers: Record<string, string>; prime: boolean }> = {
  'json-hit': { body: chatBody({ stream: false, label: 'profile-json' }), headers: { 'x-mock-words': '50' }, prime: true },
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
  console.log(`profile bench (${name}): ${machineLine()}`);
  const dir = repoPath(`bench/profiles/${name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const mock = await startMockProcess();
  if (!raw) process.env.BENCH_PROFILE_DIR = dir;
  let gateway = await startGatewayProcess(raw ? 'sluice' : 'sluice (profiled)', { upstream: `${mock.url}/v1` });
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
    ], { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
    url = `${gateway.url}${CHAT_PATH}`;
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
