/**
 * Run the mock upstream in its own process, for benchmarks:
 *   tsx test/mock-upstream/cli.ts [--port 0] [--host 127.0.0.1] [--delay-ms 0]
 * Prints one JSON line `{"url":"http://127.0.0.1:NNNN"}` on stdout once listening, then
 * serves until SIGINT / SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startMockUpstream } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '0' },
  },
});

function nonNegativeInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name}: expected a non-negative integer, got "${text}"\n`);
    process.exit(2);
  }
  return value;
}

const upstream = await startMockUpstream({
  port: nonNegativeInteger('port', values.port),
  host: values.host,
  defaultDelayMs: nonNegativeInteger('delay-ms', values['delay-ms']),
});
process.stdout.write(`${JSON.stringify({ url: upstream.url })}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    upstream.close().then(() => process.exit(0));
  });
}
