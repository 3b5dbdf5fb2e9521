import type { OutcomeSink } from '../engine/outcome.js';
import type { LogStream } from './logger.js';

/** pino's number for info: access lines read like the other lines of the log. */
const INFO = 30;

/**
 * One JSON line per request, written when the response closes (finished or cut), from the
 * request's outcome record and nothing else: no header, no query string, no body can reach it, so
 * it needs no redaction pass (the other log lines keep theirs, logger.ts). Written straight to the
 * log's destination (bounded and asynchronous by default), in pino's line shape.
 */
export function accessLogSink(stream: LogStream): OutcomeSink {
  return (o) => {
    const cache = o.cache ?? null;
    // One object with a fixed set of fields, in this order: the README's list of the line.
    const line = {
      level: INFO,
      time: Date.now(),
      service: 'sluice',
      access: true,
      requestId: o.requestId,
      method: o.method,
      route: o.path,
      status: o.status,
      cache,
      bytes: o.bytes,
      durationMs: Math.round(o.durationMs * 10) / 10,
      model: o.model ?? null,
      namespace: o.namespace ?? null,
      key: o.key ?? null,
      // false when the client left or the connection was cut before the last byte.
      completed: o.completed,
      msg: `${o.method} ${o.path} ${o.status}${cache ? ` ${cache}` : ''}`,
    };
    stream.write(`${JSON.stringify(line)}\n`);
  };
}
