/**
 * The cost of one access line, in process: the line as main (438e127) wrote it (pino's info()
 * with the logger's 29 redaction paths, to a destination that drops the bytes) against the line
 * as it is written now (built from the outcome record as text, no redaction pass, same
 * destination), and pino without the redaction paths as a third row. Same record, same process,
 * alternating rounds; the figure is ns per line (median of the rounds).
 *   npm run bench:access-log        (BENCH_LINES=N per round, default 200000; BENCH_ROUNDS=N, default 5)
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OutcomeRecord } from '../src/engine/outcome.js';
import { accessLogSink } from '../src/gateway/access-log.js';
import { createLogger } from '../src/gateway/logger.js';
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
