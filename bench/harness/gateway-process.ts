/**
 * Child-process entry point: a Sluice gateway built from the JSON config in argv[2] (merged over
 * port 0, 127.0.0.1, silent logs). Prints `{"url": ...}` once listening; closes on SIGTERM.
 * The gateway is built with createGateway, as the CLI does, so the bench measures the product.
 */
import { parseConfig } from '../../src/config.js';
import { createGateway } from '../../src/gateway/server.js';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const gateway = createGateway(parseConfig({ port: 0, host: '127.0.0.1', logLevel: 'silent', ...overrides }));
const url = await gateway.listen();
process.stdout.write(`${JSON.stringify({ url })}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
