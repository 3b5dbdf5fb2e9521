import { type DestinationStream, type Logger, pino } from 'pino';
import { SECRET_HEADERS } from '../cache/credentials.js';
import { LineDestination } from './log-destination.js';

/**
 * Paths that may hold credentials; pino replaces them before anything is written. URLs are
 * redacted where they are logged (redactUrl in src/cache/credentials.ts), since a path cannot
 * reach inside a string. Access lines do not go through this pass (access-log.ts writes them from
 * the outcome record, which holds no header, no query string and no body).
 */
const REDACT = [
  ...SECRET_HEADERS.flatMap((name) => [`headers["${name}"]`, `req.headers["${name}"]`, `*.headers["${name}"]`]),
  'authorization',
  'apiKey',
  'upstreamApiKey',
  'anthropicApiKey',
  'adminToken',
  'password',
  '*.password',
  '*.apiKey',
];

/**
 * How many bytes of log lines may wait for a slow stdout, at most (DESIGN.md rule 6). Past it,
 * lines are dropped and counted (sluice_log_lines_dropped_total), never buffered without bound.
 */
export const LOG_BUFFER_MAX_BYTES = 4 * 1024 * 1024;
/** Lines are written in batches of this many bytes, or every LOG_FLUSH_MS, whichever comes first. */
const LOG_BATCH_BYTES = 64 * 1024;
const LOG_FLUSH_MS = 250;

export type { Logger };

/** A log destination as the gateway writes to it: lines, and for a bounded one, drops. */
export interface LogStream {
  write(line: string): unknown;
  on?(event: 'drop', listener: (line: string) => void): unknown;
  off?(event: 'drop', listener: (line: string) => void): unknown;
  once?(event: 'drain', listener: () => void): unknown;
  flush?(cb?: (err?: Error | null) => void): void;
}

/**
 * The logger, writing to `destination` as given (tests) or to stdout through a bounded,
 * asynchronous buffer: batched writes, flushed every LOG_FLUSH_MS and at exit.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream | DestinationStream | LineDestination): Logger {
  const options = { level, base: { service: 'sluice' }, redact: { paths: REDACT, censor: '[redacted]' } };
  return pino(options, (destination ?? stdoutDestination()) as DestinationStream);
}

/**
 * A bounded asynchronous destination (a file descriptor or a path) holding at most `maxBytes` of
 * lines not yet written: past that, a line is dropped (a 'drop' event, see watchDrops), never queued.
 */
export function boundedDestination(dest: number | string, maxBytes = LOG_BUFFER_MAX_BYTES): LineDestination {
  return new LineDestination(dest, { maxBytes, batchBytes: Math.min(LOG_BATCH_BYTES, Math.floor(maxBytes / 4)), flushMs: LOG_FLUSH_MS });
}

let stdout: LineDestination | undefined;

/** The process's one stdout destination, shared by every logger it makes; what waits is written at exit. */
function stdoutDestination(): LineDestination {
  if (!stdout) {
    const destination = boundedDestination(1);
    process.once('exit', () => destination.flushSync());
    stdout = destination;
  }
  return stdout;
}

/** Where the logger writes: access lines go there too, without the redaction pass. */
export function logStream(logger: Logger): LogStream {
  return (logger as unknown as Record<symbol, LogStream>)[pino.symbols.streamSym] as LogStream;
}

/** Write what waits in the logger's buffer, waiting at most `timeoutMs` for a slow destination. */
export function flushLog(logger: Logger, timeoutMs = 2000): Promise<void> {
  const stream = logStream(logger);
  if (!stream.flush) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    try {
      stream.flush?.(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/**
 * Count the lines a bounded destination dropped, and say so once: the warning is written when the
 * destination drained (written at the first drop it would be dropped too). Returns what stops the
 * counting: the stdout destination is the process's, and outlives a gateway that is closed.
 */
export function watchDrops(logger: Logger, counted: () => void): () => void {
  const stream = logStream(logger);
  if (!stream.on) return () => undefined;
  let dropped = 0;
  let warned = false;
  const onDrop = () => {
    dropped++;
    counted();
    if (warned) return;
    warned = true;
    stream.once?.('drain', () =>
      logger.warn(
        { dropped },
        'log destination stalled: lines past the buffer bound were dropped (sluice_log_lines_dropped_total counts them)',
      ),
    );
  };
  stream.on('drop', onDrop);
  return () => stream.off?.('drop', onDrop);
}
