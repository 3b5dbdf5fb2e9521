import type { OutcomeSink } from '../engine/outcome.js';
import type { Logger } from './logger.js';

/**
 * One structured info line per request, written when the response closes (finished or cut), from
 * the request's outcome record. It names no header and no body: never a credential, never prompt
 * text. The path is logged without its query string, which may carry a key.
 */
export function accessLogSink(logger: Logger): OutcomeSink {
  return (o) => {
    const cache = o.cache ?? null;
    logger.info(
      {
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
      },
      `${o.method} ${o.path} ${o.status}${cache ? ` ${cache}` : ''}`,
    );
  };
}
