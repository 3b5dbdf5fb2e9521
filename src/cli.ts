#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { resolveCli, USAGE, UsageError } from './cli-options.js';
import { ConfigError, type SluiceConfig } from './config.js';
import { SluiceError } from './errors.js';
import { createGateway } from './gateway/server.js';
import { flushLog } from './gateway/logger.js';

async function main(): Promise<void> {
  const cli = await resolveCli(process.argv.slice(2), process.env);
  if (cli.command === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (cli.command === 'help' || !cli.config) {
    process.stdout.write(USAGE);
    return;
  }
  for (const warning of cli.warnings ?? []) process.stderr.write(`sluice: warning: ${warning}\n`);
  const config = cli.config;
  const gateway = createGateway(config);
  try {
    await gateway.listen();
  } catch (err) {
    await gateway.close().catch(() => undefined);
    throw listenFailure(err, config);
  }
  // First signal: drain (in-flight answers finish, up to shutdownGraceMs). Second: cut at once.
  let signals = 0;
  const shutdown = (signal: string) => {
    const logger = gateway.context.logger;
    signals++;
    if (signals === 1) {
      logger.info({ signal, graceMs: config.shutdownGraceMs }, 'draining: answers in flight may finish');
      gateway.drain(config.shutdownGraceMs).then(
        ({ cut }) => {
          logger.info({ cut }, 'drained; exiting');
          // The log's buffered lines go out first (bounded in time: a stalled stdout does not hold the exit).
          void flushLog(logger).then(() => process.exit(0));
        },
        () => process.exit(1),
      );
      return;
    }
    logger.warn({ signal, inFlight: gateway.context.lifecycle.inFlight }, 'second signal: cutting every answer now');
    gateway.close().finally(() => void flushLog(logger).then(() => process.exit(0)));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** dist/cli.js and src/cli.ts both sit one level below package.json. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A start-up problem a person can fix, said in one line. */
class StartError extends SluiceError {
  declare readonly code: 'START_FAILED';
  constructor(message: string) {
    super('START_FAILED', message);
    this.name = 'StartError';
  }
}

function listenFailure(err: unknown, config: SluiceConfig): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const address = config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') {
    return new StartError(
      `${address} is already in use: stop whatever listens there, or pick another port with --port (SLUICE_PORT)`,
    );
  }
  if (code === 'EACCES') {
    return new StartError(`not allowed to listen on ${address}: use a port above 1023 with --port (SLUICE_PORT)`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new StartError(`cannot listen on ${address}: ${config.host} is not an address of this machine (--host, SLUICE_HOST)`);
  }
  return err instanceof Error ? err : new StartError(String(err));
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`sluice: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof StartError) {
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`sluice: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
