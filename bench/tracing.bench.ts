/**
 * Traces in process: CPU per request spent by src/gateway/tracing.ts (start a span from the
 * request's headers, end it from an outcome record, the SDK's batch processor and the OTLP
 * exporter serializing and sending to a local receiver in its own process), without the gateway
 * or any load around it: the share of bench:cache's "traces on − off" that this module owns,
 * measured with far less noise. Rounds alternate a HIT (no traceparent, as bench:cache sends)
 * and a MISS continuing a client's traceparent whose upstream headers are read.
 *   npm run bench:tracing      (BENCH_SPANS=N per round, default 50000; BENCH_ROUNDS=N, default 5)
 * Runs the build (dist/), as the gateway bench does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { repoPath, runBench, startServerProcess } from './harness/processes.js';
import { machineLine } from './harness/report.js';
import { median } from './harness/compare.js';
import type { Outcome } from '../src/engine/outcome.js';
import type { startTracing as StartTracing } from '../src/gateway/tracing.js';

const SPANS = Number(process.env.BENCH_SPANS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/**
 * Requests between two pauses of a millisecond (at most ~30 000 a second, a gateway's pace at
 * most): the exporter's socket runs in those pauses, and the batch processor's queue (2048) never
 * fills, so no span is dropped unexported (the receiver's count, printed at the end, says so).
 */
const PER_TURN = 32;

await runBench(async () => {
  console.log(`tracing bench: ${machineLine()}`);
  const { startTracing } = (await import(repoPath('dist/gateway/tracing.js'))) as { startTracing: typeof StartTracing };
  const receiver = await startServerProcess('otlp receiver', repoPath('bench/harness/otlp-receiver-process.mjs'), []);
  const tracing = startTracing({ endpoint: receiver.url });
  const hit = outcome('HIT');
  const miss = outcome('MISS');
  const cases = [
    { name: 'HIT, no traceparent', headers: { host: '127.0.0.1', 'content-type': 'application/json' }, outcome: hit, forward: false },
    {
      name: 'MISS, traceparent continued and sent upstream',
      headers: { host: '127.0.0.1', 'content-type': 'application/json', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      outcome: miss,
      forward: true,
    },
  ];
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  let sink = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const c of round % 2 ? [...cases].reverse() : cases) {
      const before = process.cpuUsage();
      for (let i = 0; i < SPANS; i++) {
        const span = tracing.start(c.headers);
        if (c.forward) sink += Object.assign({}, span.headers).traceparent?.length ?? 0;
        span.end(c.outcome);
        if (i % PER_TURN === PER_TURN - 1) await sleep(1);
      }
      const used = process.cpuUsage(before);
      // Round 0 warms the JIT up and is not counted.
      if (round > 0) results.get(c.name)!.push((used.user + used.system) / SPANS);
    }
  }
  await tracing.shutdown();
  console.log(`${(ROUNDS + 1) * cases.length * SPANS} spans ended (the receiver's count follows)`);
  await receiver.stop();
  console.log(`\n  CPU µs per request (median of ${ROUNDS} rounds of ${SPANS}; range), this process, every thread  [${sink ? 'headers read' : ''}]`);
  for (const [name, values] of results) {
    console.log(`  ${name.padEnd(50)} ${median(values).toFixed(2).padStart(7)}  (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)})`);
  }
});

/** An outcome record as a JSON chat hit or miss closes with (the fields the span reads). */
function outcome(cache: 'HIT' | 'MISS'): Outcome {
  const usage = { inputTokens: 44, outputTokens: 48 };
  return {
    requestId: 'bench-request',
    method: 'POST',
    path: '/v1/chat/completions',
    route: '/v1/chat/completions',
    protocol: 'openai.chat',
    model: 'gpt-4o-mini',
    namespace: undefined,
    key: `v3:${'ab12'.repeat(16)}`,
    cache,
    lookup: undefined,
    layer: cache === 'HIT' ? 'l1' : 'none',
    read: true,
    similarity: undefined,
    ageSeconds: cache === 'HIT' ? 12 : undefined,
    entry: undefined,
    shared: undefined,
    upstream: 'openai',
    answer: { model: 'gpt-4o-mini-2024-07-18', usage },
    status: 200,
    bytes: 938,
    source: cache === 'HIT' ? 'cache' : 'upstream',
    upstreamHeadersMs: undefined,
    upstreamMs: undefined,
    arrivedAt: 0,
    durationMs: 0.4,
    completed: true,
    failure: undefined,
  } as Outcome;
}
