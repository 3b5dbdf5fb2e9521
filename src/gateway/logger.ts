import { type Logger, pino } from 'pino';
import { SECRET_HEADERS } from '../cache/credentials.js';

/**
 * Paths that may hold credentials; pino replaces them before anything is written. URLs are
 * redacted where they are logged (redactUrl in src/cache/credentials.ts), since a path cannot
 * reach inside a string.
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

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'sluice' }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
