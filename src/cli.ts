#!/usr/bin/env node
import { resolveCli, USAGE } from './cli-options.js';
import { ConfigError } from './config.js';
import { createGateway } from './gateway/server.js';

async function main(): Promise<void> {
  const cli = await resolveCli(process.argv.slice(2), process.env);
  if (cli.command === 'help' || !cli.config) {
    process.stdout.write(USAGE);
    return;
  }
  const gateway = createGateway(cli.config);
  await gateway.listen();
  const shutdown = (signal: string) => {
    gateway.context.logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sluice: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
