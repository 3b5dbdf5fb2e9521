/**
 * Child-process entry point: a Sluice gateway built from the JSON config in argv[2] (merged over
 * port 0, 127.0.0.1, silent logs). Prints `{"url": ...}` once listening; closes on SIGTERM.
 *
 * Plain JavaScript run by plain node, over the BUILT gateway (dist/, `npm run build`), as
 * `npm start` runs it: the bench measures the product, not a TypeScript loader (tsx wraps every
 * function it creates in a naming helper, which costs the request path several microseconds).
 * SLUICE_DIST points at another build (another checkout's dist/) for before/after figures.
 * BENCH_DEFAULT_LOGS=1: the logs `npm start` has (info, access log on, to stdout) instead of
 * silent ones; the ready line then goes to the fd BENCH_READY_FD names, stdout being a log file.
 */
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const dist = process.env.SLUICE_DIST ? pathToFileURL(`${process.env.SLUICE_DIST.replace(/\/$/, '')}/`) : new URL('../../dist/', import.meta.url);
const { parseConfig } = await import(new URL('config.js', dist).href);
const { createGateway } = await import(new URL('gateway/server.js', dist).href);

const overrides = JSON.parse(process.argv[2] ?? '{}');
const logs = process.env.BENCH_DEFAULT_LOGS === '1' ? {} : { logLevel: 'silent' };
const gateway = createGateway(parseConfig({ port: 0, host: '127.0.0.1', ...logs, ...overrides }));
const url = await gateway.listen();
const ready = `${JSON.stringify({ url })}\n`;
if (process.env.BENCH_READY_FD) writeSync(Number(process.env.BENCH_READY_FD), ready);
else process.stdout.write(ready);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
