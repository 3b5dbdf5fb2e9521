/**
 * Cache costs, each against a baseline measured in the same run:
 *  - hit throughput and latency (JSON entry, 200-event SSE entry) against a bare node:http server
 *    in its own process writing the very bytes Sluice replays;
 *  - time to first byte of a stream hit, same baseline;
 *  - capture overhead: every request a recorded miss that is judged and stored
 *    (`cache-control: no-cache`, x-sluice-cache: REFRESH) against a gateway with cache mode off;
 *  - L1 memory per entry against payload bytes (child process with --expose-gc).
 *
 * Processes: this script is the load generator; mock upstream, gateways and raw servers each run
 * in their own process. Nothing is pinned to a core.
 *   npm run bench:cache            (BENCH_SECONDS=N to change the 10 s per case)
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadResult, runLoad } from './harness/load.js';
import {
  repoPath,
  runBench,
  runScriptForJson,
  type ServerProcess,
  startGatewayProcess,
  startMockProcess,
  startServerProcess,
} from './harness/processes.js';
import { goal, heading, machineLine, printLoadTable, printTtfbTable } from './harness/report.js';
import { CHAT_PATH, chatBody, countSseEvents, JSON_HEADERS, probe } from './harness/requests.js';
import { measureTtfb } from './harness/ttfb.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 32;
const SSE_EVENTS = 200;
const MEMORY_ENTRIES = 1000;

await runBench(async () => {
  console.log(`cache bench: ${machineLine()}`);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cache-bench-'));
  try {
    await benchmark(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function benchmark(dir: string): Promise<void> {
  const mock = await startMockProcess();
  const cacheOn = await startGatewayProcess('sluice (cache on)', {
    upstream: `${mock.url}/v1`,
  });
  const cacheOff = await startGatewayProcess('sluice (cache off)', {
    upstream: `${mock.url}/v1`,
    cache: { mode: 'off' },
  });
  console.log(
    `mock pid ${mock.pid}, sluice on pid ${cacheOn.pid}, sluice off pid ${cacheOff.pid}, load generator pid ${process.pid}`,
  );

  // Words per answer so the SSE entry holds exactly SSE_EVENTS events (role, content..., finish, [DONE]).
  const sample = await probe(`${mock.url}${CHAT_PATH}`, chatBody({ stream: true }), {
    'x-mock-words': String(SSE_EVENTS),
  });
  const sseWords = String(SSE_EVENTS - (countSseEvents(sample.body) - SSE_EVENTS));

  const hitCases = [
    {
      label: 'JSON entry (50 words)',
      body: chatBody({ stream: false, label: 'hit-json' }),
      words: '50',
    },
    {
      label: `SSE entry (${SSE_EVENTS} events)`,
      body: chatBody({ stream: true, label: 'hit-sse' }),
      words: sseWords,
    },
  ];
  let sseHit: { raw: ServerProcess; body: string; headers: Record<string, string> } | undefined;
  const hitRatios: number[] = [];
  for (const { label, body, words } of hitCases) {
    const headers = { ...JSON_HEADERS, 'x-mock-words': words };
    const first = await probe(`${cacheOn.url}${CHAT_PATH}`, body, headers);
    const hit = await probe(`${cacheOn.url}${CHAT_PATH}`, body, headers);
    const file = join(dir, `${label.split(' ')[0]}.body`);
    writeFileSync(file, hit.body);
    const contentType = hit.headers['content-type'] ?? 'application/octet-stream';
    const raw = await startServerProcess(
      `raw server (${label})`,
      repoPath('bench/harness/raw-server-process.ts'),
      [file, contentType],
    );
    const events = contentType.startsWith('text/event-stream') ? `, ${countSseEvents(hit.body)} events` : '';
    heading(
      `hit, ${label}: ${hit.body.byteLength} bytes${events}; first ${first.headers['x-sluice-cache']}, then ${hit.headers['x-sluice-cache']}; ${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up`,
    );
    const load = (url: string, pid: number): Promise<LoadResult> =>
      runLoad({
        url: `${url}${CHAT_PATH}`,
        body,
        headers,
        connections: CONNECTIONS,
        warmupSeconds: WARMUP_SECONDS,
        seconds: SECONDS,
        cpuOf: { 'load gen': process.pid, server: pid },
      });
    const baseline = await load(raw.url, raw.pid);
    const sluice = await load(cacheOn.url, cacheOn.pid);
    printLoadTable([
      { name: 'raw node:http, same bytes', result: baseline },
      { name: 'sluice L1 hit', result: sluice },
    ]);
    hitRatios.push(sluice.requestsPerSecond / baseline.requestsPerSecond);
    if (contentType.startsWith('text/event-stream')) sseHit = { raw, body, headers };
    else await raw.stop();
  }

  if (sseHit) {
    heading(`time to first body byte, stream hit (${SSE_EVENTS} events): sequential, alternating`);
    const ttfb = await measureTtfb(
      [
        {
          name: 'raw',
          url: `${sseHit.raw.url}${CHAT_PATH}`,
          body: sseHit.body,
          headers: sseHit.headers,
        },
        {
          name: 'sluice',
          url: `${cacheOn.url}${CHAT_PATH}`,
          body: sseHit.body,
          headers: sseHit.headers,
        },
      ],
      { warmup: 100, samples: 1000 },
    );
    printTtfbTable([
      { name: 'raw node:http, same bytes', result: ttfb.get('raw')! },
      { name: 'sluice L1 hit', result: ttfb.get('sluice')! },
    ]);
    await sseHit.raw.stop();
  }

  const captureRatios: number[] = [];
  for (const { label, stream } of [
    { label: '50-chunk stream', stream: true },
    { label: 'JSON answer (50 words)', stream: false },
  ]) {
    const body = chatBody({ stream, label: 'capture' });
    const onHeaders = {
      ...JSON_HEADERS,
      'x-mock-words': '50',
      'cache-control': 'no-cache',
    };
    const offHeaders = { ...JSON_HEADERS, 'x-mock-words': '50' };
    const onProbe = await probe(`${cacheOn.url}${CHAT_PATH}`, body, onHeaders);
    const offProbe = await probe(`${cacheOff.url}${CHAT_PATH}`, body, offHeaders);
    heading(
      `capture overhead, ${label}: cache on + no-cache (${onProbe.headers['x-sluice-cache']}, ${onProbe.headers['cache-status']}) vs cache mode off (${offProbe.headers['x-sluice-cache']}); ${CONNECTIONS} connections, ${SECONDS} s`,
    );
    const off = await runLoad({
      url: `${cacheOff.url}${CHAT_PATH}`,
      body,
      headers: offHeaders,
      connections: CONNECTIONS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
      cpuOf: { 'load gen': process.pid, mock: mock.pid, sluice: cacheOff.pid },
    });
    const on = await runLoad({
      url: `${cacheOn.url}${CHAT_PATH}`,
      body,
      headers: onHeaders,
      connections: CONNECTIONS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
      cpuOf: { 'load gen': process.pid, mock: mock.pid, sluice: cacheOn.pid },
    });
    printLoadTable([
      { name: 'cache off', result: off },
      { name: 'cache on, every request stored', result: on },
    ]);
    captureRatios.push(on.requestsPerSecond / off.requestsPerSecond);
  }
  await Promise.all([cacheOn.stop(), cacheOff.stop(), mock.stop()]);

  heading(
    `L1 memory: ${MEMORY_ENTRIES} recorded ${SSE_EVENTS}-event SSE entries in a MemoryStore (child, --expose-gc)`,
  );
  const memory = (await runScriptForJson(
    'memory probe',
    repoPath('bench/harness/memory-probe.ts'),
    [String(MEMORY_ENTRIES), sseWords],
    ['--expose-gc'],
  )) as Record<string, number>;
  const per = (bytes: number) => `${(bytes / memory.entries!).toFixed(0)} B/entry`;
  const payload = memory.payloadBytes!;
  console.log(`  entries ${memory.entries}, ${memory.eventsPerEntry} events each`);
  console.log(`  payload bytes            ${payload}  (${per(payload)})  (base)`);
  console.log(
    `  measured growth          ${memory.totalGrowth}  (${per(memory.totalGrowth!)})  ${(memory.totalGrowth! / payload).toFixed(3)}x  [heap ${memory.heapGrowth}, array buffers ${memory.bufferGrowth}]`,
  );
  console.log(
    `  entrySize() accounting   ${memory.accountedBytes}  (${per(memory.accountedBytes!)})  ${(memory.accountedBytes! / payload).toFixed(3)}x  (what the L1 byte budget counts)`,
  );
  console.log(
    `  backing ArrayBuffers     ${memory.backingBytes}  ${(memory.backingBytes! / payload).toFixed(3)}x  (bodies that are views of larger buffers would show here)`,
  );

  heading('goals');
  goal('JSON hit throughput >= 0.8x raw', (hitRatios[0] ?? 0) >= 0.8, `${hitRatios[0]?.toFixed(2)}x`);
  goal('SSE hit throughput >= 0.8x raw', (hitRatios[1] ?? 0) >= 0.8, `${hitRatios[1]?.toFixed(2)}x`);
  goal(
    'stream capture >= 0.9x cache off',
    (captureRatios[0] ?? 0) >= 0.9,
    `${captureRatios[0]?.toFixed(2)}x`,
  );
  goal('JSON capture >= 0.9x cache off', (captureRatios[1] ?? 0) >= 0.9, `${captureRatios[1]?.toFixed(2)}x`);
  const memoryRatio = memory.totalGrowth! / payload;
  goal('L1 memory <= 1.3x payload', memoryRatio <= 1.3, `${memoryRatio.toFixed(3)}x`);
}
