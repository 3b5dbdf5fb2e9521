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
    // Strings a client chose (the path, the model) go through JSON.stringify. The others are
    // Sluice's own tokens, checked where they were made: a request id (server.ts's pattern or a
    // UUID), an HTTP method (the parser accepts tokens only), an outcome label, a hex key, a
    // namespace (controls.ts's pattern) and an upstream name (its config's pattern); they are
    // quoted as they are. JSON.stringify of the whole object cost several microseconds a line.
    const path = JSON.stringify(o.path);
    const cache = o.cache === undefined ? 'null' : `"${o.cache}"`;
    const msg = `${o.method} ${path.slice(1, -1)} ${o.status}${o.cache === undefined ? '' : ` ${o.cache}`}`;
    stream.write(
      `{"level":${INFO},"time":${Date.now()},"service":"sluice","access":true,"requestId":${token(o.requestId)},"method":"${o.method}","route":${path},"status":${o.status},"cache":${cache},"bytes":${o.bytes},"durationMs":${Math.round(o.durationMs * 10) / 10},"model":${o.model === undefined ? 'null' : JSON.stringify(o.model)},"upstream":${token(o.upstream)},"namespace":${token(o.namespace)},"key":${token(o.key)},"completed":${o.completed},"msg":"${msg}"}\n`,
    );
  };
}

/** One of Sluice's own tokens (no quote, backslash or control character can be in it), or null. */
function token(value: string | undefined): string {
  return value === undefined ? 'null' : `"${value}"`;
}
