import { type Logger, pino } from 'pino';

/** Paths that may hold credentials; pino replaces them before anything is written. */
const REDACT = [
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'authorization',
  'apiKey',
  'upstreamApiKey',
  'anthropicApiKey',
  'adminToken',
];

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'sluice' }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
