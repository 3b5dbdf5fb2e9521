/**
 * Gateway pass-through cost: the mock upstream direct versus the same requests through Sluice
 * with the cache bypassed (`cache-control: no-store`, x-sluice-cache: BYPASS, so every request
 * goes upstream and nothing is stored). Same requests, same connections, same run.
 *
 * A second baseline: a minimal node:http reverse proxy (keep-alive agent, bodies piped, nothing
 * else) in front of the same mock; pass-through must not cost more CPU per request than it.
 * Sluice runs as `npm start` runs it, with its defaults (log level info, access log on), its
 * stdout going to a file; CPU per request of every process is printed beside the throughput.
 *
 * Throughput is measured BENCH_REPS times (default 3) alternating which side goes first; the
 * ratios reported are medians, with their range.
 *
 * Processes: this script is the load generator (autocannon, undici for TTFB); the mock
 * upstream and the gateway each run in their own process. Nothing is pinned to a core.
 *   npm run bench:gateway          (BENCH_SECONDS=N per measurement, default 5; BENCH_REPS=N)
 */

import { type Comparison, compare, printSummary } from './harness/compare.js';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath, runBench, startGatewayProcess, startMockProcess, startServerProcess } from './harness/processes.js';
import { goal, heading, machineLine, printTtfbTable } from './harness/report.js';
import { CHAT_PATH, chatBody, JSON_HEADERS, probe } from './harness/requests.js';
import { measureTtfb } from './harness/ttfb.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const WARMUP_SECONDS = 2;
const CONNECTIONS = 32;

await runBench(async () => {
  console.log(`gateway bench: ${machineLine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gateway-bench-'));
  const logFile = join(dir, 'sluice-stdout.log');
  const mock = await startMockProcess();
  const gateway = await startGatewayProcess('sluice', { upstream: `${mock.url}/v1` }, [], logFile);
  const proxy = await startServerProcess('minimal proxy', repoPath('bench/harness/proxy-process.mjs'), [mock.url]);
  console.log(
    `mock pid ${mock.pid} ${mock.url}, sluice pid ${gateway.pid} ${gateway.url} (defaults, stdout to ${logFile}), minimal proxy pid ${proxy.pid}, load generator pid ${process.pid}`,
  );

  const bypass = {
    ...JSON_HEADERS,
    'cache-control': 'no-store',
    'x-mock-words': '50',
  };
  const cases = [
    { label: 'JSON answer (50 words)', body: chatBody({ stream: false }) },
    { label: '50-chunk stream', body: chatBody({ stream: true }) },
  ];

  const check = await probe(`${gateway.url}${CHAT_PATH}`, cases[1]!.body, bypass);
  console.log(
    `probe through sluice: status ${check.status}, x-sluice-cache ${check.headers['x-sluice-cache']}, ${check.body.byteLength} bytes`,
  );

  const rows: Comparison[] = [];
  const proxied: Comparison[] = [];
  for (const { label, body } of cases) {
    heading(
      `${label}: throughput, ${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up, ${REPS} repetitions`,
    );
    const side = (name: string, url: string, serverName: string) => ({
      name,
      serverName,
      load: {
        url: `${url}${CHAT_PATH}`,
        body,
        headers: bypass,
        cpuOf: { 'load gen': process.pid, mock: mock.pid, sluice: gateway.pid, proxy: proxy.pid },
      },
    });
    proxied.push(
      await compare(
        `${label} pass-through, sluice ÷ minimal node:http proxy`,
        side('minimal node:http proxy', proxy.url, 'proxy'),
        side('through sluice (BYPASS)', gateway.url, 'sluice'),
        { repetitions: REPS, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS },
      ),
    );
    rows.push(
      await compare(
        `${label} pass-through, ÷ direct to the upstream`,
        side('direct to mock', mock.url, 'mock'),
        side('through sluice (BYPASS)', gateway.url, 'sluice'),
        { repetitions: REPS, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS },
      ),
    );
  }

  const ttfbCases = [
    {
      label: 'JSON answer (50 words)',
      body: chatBody({ stream: false }),
      headers: bypass,
      samples: 1000,
    },
    {
      label: '50-chunk stream, unpaced',
      body: chatBody({ stream: true }),
      headers: bypass,
      samples: 1000,
    },
    {
      label: 'paced stream (10 chunks, 2 ms apart: first chunk arrives before the rest exists)',
      body: chatBody({ stream: true }),
      headers: { ...bypass, 'x-mock-words': '10', 'x-mock-delay-ms': '2' },
      samples: 300,
    },
  ];
  let streamTtfbAdded = Number.NaN;
  for (const { label, body, headers, samples } of ttfbCases) {
    heading(`time to first body byte, ${label}: sequential, alternating, ${samples} samples each`);
    const results = await measureTtfb(
      [
        { name: 'direct', url: `${mock.url}${CHAT_PATH}`, body, headers },
        { name: 'sluice', url: `${gateway.url}${CHAT_PATH}`, body, headers },
      ],
      { warmup: 100, samples },
    );
    const direct = results.get('direct')!;
    const through = results.get('sluice')!;
    printTtfbTable([
      { name: 'direct to mock', result: direct },
      { name: 'through sluice (BYPASS)', result: through },
    ]);
    if (label.startsWith('paced')) streamTtfbAdded = through.p50Ms - direct.p50Ms;
  }

  await Promise.all([gateway.stop(), proxy.stop()]);
  const logged = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"access":true')).length;
  console.log(`\naccess log: ${logged} access lines, ${statSync(logFile).size} bytes written to sluice's stdout file`);
  rmSync(dir, { recursive: true, force: true });
  printSummary([
    { comparison: rows[0] as Comparison, goal: 0.75 },
    { comparison: rows[1] as Comparison, goal: 0.75 },
    { comparison: { ...(proxied[0] as Comparison), label: 'JSON pass-through: sluice CPU ÷ minimal proxy CPU' }, goal: 1, measure: 'cpu' },
    { comparison: { ...(proxied[1] as Comparison), label: '50-chunk pass-through: sluice CPU ÷ minimal proxy CPU' }, goal: 1, measure: 'cpu' },
  ]);
  goal(
    'p50 time to first byte added <= 1 ms (paced stream)',
    streamTtfbAdded <= 1,
    `${streamTtfbAdded.toFixed(3)} ms`,
  );
});
