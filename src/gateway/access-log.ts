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
    const msg = `${o.method} ${o.path} ${o.status}${cache ? ` ${cache}` : ''}`;
    // Built as text in the README's field order: JSON.stringify of the whole object cost several
    // microseconds a line. Strings a client chose (the path, the model, the message) are quoted by
    // JSON.stringify; the others are Sluice's own (a validated request id, a method token, an
    // outcome label, a hex key, a namespace the controls validated), quoted the same way for safety.
    stream.write(
      `{"level":${INFO},"time":${Date.now()},"service":"sluice","access":true,"requestId":${quote(o.requestId)},"method":${quote(o.method)},"route":${quote(o.path)},"status":${o.status},"cache":${quote(cache)},"bytes":${o.bytes},"durationMs":${Math.round(o.durationMs * 10) / 10},"model":${quote(o.model)},"upstream":${quote(o.upstream)},"namespace":${quote(o.namespace)},"key":${quote(o.key)},"completed":${o.completed},"msg":${JSON.stringify(msg)}}\n`,
    );
  };
}

/** A JSON string, or null. */
function quote(value: string | null | undefined): string {
  return value === undefined || value === null ? 'null' : JSON.stringify(value);
}
