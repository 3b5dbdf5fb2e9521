/**
 * Gateway pass-through cost: the mock upstream direct versus the same requests through Sluice
 * with the cache bypassed (`cache-control: no-store`, x-sluice-cache: BYPASS, so every request
 * goes upstream and nothing is stored). Same requests, same connections, same run.
 *
 * Processes: this script is the load generator (autocannon, undici for TTFB); the mock
 * upstream and the gateway each run in their own process. Nothing is pinned to a core.
 *   npm run bench:gateway          (BENCH_SECONDS=N to change the 10 s per case)
 */

import { type LoadResult, runLoad } from './harness/load.js';
import { runBench, startGatewayProcess, startMockProcess } from './harness/processes.js';
import { goal, heading, machineLine, printLoadTable, printTtfbTable } from './harness/report.js';
import { CHAT_PATH, chatBody, JSON_HEADERS, probe } from './harness/requests.js';
import { measureTtfb } from './harness/ttfb.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 32;

await runBench(async () => {
  console.log(`gateway bench: ${machineLine()}`);
  const mock = await startMockProcess();
  const gateway = await startGatewayProcess('sluice', {
    upstream: `${mock.url}/v1`,
  });
  console.log(
    `mock pid ${mock.pid} ${mock.url}, sluice pid ${gateway.pid} ${gateway.url}, load generator pid ${process.pid}`,
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

  const streamResults: Record<string, LoadResult> = {};
  for (const { label, body } of cases) {
    heading(
      `${label}: throughput, ${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up`,
    );
    const load = (url: string) =>
      runLoad({
        url: `${url}${CHAT_PATH}`,
        body,
        headers: bypass,
        connections: CONNECTIONS,
        warmupSeconds: WARMUP_SECONDS,
        seconds: SECONDS,
        cpuOf: { 'load gen': process.pid, mock: mock.pid, sluice: gateway.pid },
      });
    const direct = await load(mock.url);
    const through = await load(gateway.url);
    printLoadTable([
      { name: 'direct to mock', result: direct },
      { name: 'through sluice (BYPASS)', result: through },
    ]);
    if (label.includes('stream')) {
      streamResults.direct = direct;
      streamResults.through = through;
    }
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

  heading('goals');
  const streamRatio = streamResults.through!.requestsPerSecond / streamResults.direct!.requestsPerSecond;
  goal('stream throughput through sluice >= 0.5x direct', streamRatio >= 0.5, `${streamRatio.toFixed(2)}x`);
  goal(
    'p50 time to first byte added <= 1 ms (paced stream)',
    streamTtfbAdded <= 1,
    `${streamTtfbAdded.toFixed(3)} ms`,
  );
});
