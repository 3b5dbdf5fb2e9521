/**
 * The cost of one access line, in process: the line as main (438e127) wrote it (pino's info()
 * with the logger's 29 redaction paths, to a destination that drops the bytes) against the line
 * as it is written now (built from the outcome record as text, no redaction pass, same
 * destination), and pino without the redaction paths as a third row. Same record, same process,
 * alternating rounds; the figure is ns per line (median of the rounds).
 * Then the destination the lines go to, writing to a file: pino's asynchronous SonicBoom, as main
 * configured it (8 KiB batches, bounded at 4 MiB), against the gateway's LineDestination
 * (log-destination.ts); CPU of the whole process (the thread pool's writes included) per line,
 * lines given in groups of 100 a millisecond apart (about 100k lines/s at most), as a busy server gives them.
 *   npm run bench:access-log        (BENCH_LINES=N per round, default 200000; BENCH_ROUNDS=N, default 5)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { OutcomeRecord } from '../src/engine/outcome.js';
import { accessLogSink } from '../src/gateway/access-log.js';
import { boundedDestination, createLogger } from '../src/gateway/logger.js';
import type { LogStream } from '../src/gateway/logger.js';
import { machineLine } from './harness/report.js';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** A destination that takes the bytes and keeps none (pino writes to it synchronously). */
const sink = new Writable({ write: (_chunk, _enc, done) => done() });
const nullStream = { write: (_line: string) => true };

const record = new OutcomeRecord('0b6a4c6e-5a1e-4d0e-9f3e-2f7d1c9a8b7c', 'POST', '/v1/chat/completions');
record.routed('/v1/chat/completions', 'openai.chat');
record.requested('gpt-4o-mini', 'default');
record.looked(`v3:${'ab'.repeat(32)}`, 'l1', 'hit', true);
record.answered('HIT');
record.sent(938, 'cache');
const outcome = record.close(200, true, 0);

const redacted = createLogger('info', sink);
const plain = pino({ level: 'info', base: { service: 'sluice' } }, sink);
/** The line main wrote (src/gateway/access-log.ts at 438e127), field for field. */
const mainLine = (logger: typeof plain) => () =>
  logger.info(
    {
      access: true,
      requestId: outcome.requestId,
      method: outcome.method,
      route: outcome.route,
      status: outcome.status,
      cache: outcome.cache,
      bytes: outcome.bytes,
      durationMs: Math.round(outcome.durationMs * 10) / 10,
      model: outcome.model ?? null,
      namespace: outcome.namespace ?? null,
      key: outcome.key ?? null,
      completed: outcome.completed,
    },
    `${outcome.method} ${outcome.route} ${outcome.status} ${outcome.cache}`,
  );
const now = accessLogSink(nullStream);
const cases: Array<[string, () => void]> = [
  ['main: pino info() with 29 redaction paths', mainLine(redacted)],
  ['pino info() without redaction', mainLine(plain)],
  ['now: the line built from the record', () => now(outcome)],
];

console.log(`access line bench: ${machineLine()}`);
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, write] of round % 2 ? [...cases].reverse() : cases) {
    for (let i = 0; i < 10_000; i++) write();
    const start = process.hrtime.bigint();
    for (let i = 0; i < LINES; i++) write();
    results.get(name)?.push(Number(process.hrtime.bigint() - start) / LINES);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const base = median(results.get(cases[0]![0])!);
for (const [name, values] of results) {
  const m = median(values);
  console.log(
    `  ${name.padEnd(46)} ${m.toFixed(0).padStart(6)} ns/line (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})  ${(m / base).toFixed(3)}x of main`,
  );
}

console.log('\n  the destination, writing each line to a file (CPU of the process per line, thread pool included)');
const dir = mkdtempSync(join(tmpdir(), 'sluice-access-log-bench-'));
try {
  let captured = '';
  accessLogSink({ write: (line: string) => (captured = line) })(outcome);
  const destinations: Array<[string, () => LogStream]> = [
    [
      'main: pino.destination (SonicBoom, 8 KiB batches)',
      () => pino.destination({ dest: join(dir, 'sonic.log'), sync: false, minLength: 8192, maxLength: 4 * 1024 * 1024 }),
    ],
    ['now: LineDestination', () => boundedDestination(join(dir, 'line.log'))],
    ['the pacing alone (a destination that drops the line)', () => ({ write: () => true, flush: (cb) => cb?.() })],
  ];
  const perLine = new Map<string, number[]>(destinations.map(([name]) => [name, []]));
  const drops = new Map<string, number>(destinations.map(([name]) => [name, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of round % 2 ? [...destinations].reverse() : destinations) {
      const destination = make();
      destination.on?.('drop', () => drops.set(name, (drops.get(name) ?? 0) + 1));
      const before = process.cpuUsage();
      for (let i = 0; i < LINES; i += 100) {
        for (let j = 0; j < 100; j++) destination.write(captured);
        await sleep(1);
      }
      await new Promise<void>((resolve) => destination.flush?.(() => resolve()));
      const used = process.cpuUsage(before);
      perLine.get(name)?.push(((used.user + used.system) * 1000) / LINES);
    }
  }
  const baseLine = median(perLine.get(destinations[0]![0])!);
  for (const [name, values] of perLine) {
    const m = median(values);
    console.log(
      `  ${name.padEnd(46)} ${m.toFixed(0).padStart(6)} ns/line (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})  ${(m / baseLine).toFixed(3)}x of main; ${drops.get(name)} dropped`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
