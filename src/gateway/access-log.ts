import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from './exchange.js';
import type { Logger } from './logger.js';

/**
 * One structured info line per request, written when the response closes (finished or cut), from
 * what the handlers noted on its Exchange. It names no header and no body: never a credential,
 * never prompt text. The path is logged without its query string, which may carry a key.
 * Returns the function that writes the line; call it from the response's close listener.
 */
export function startAccessLine(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  path: string,
): () => void {
  countBodyBytes(res, exchange);
  return () => {
    const route = exchange.route ?? path;
    const status = res.statusCode;
    const cache = exchange.cache ?? null;
    logger.info(
      {
        access: true,
        requestId: exchange.requestId,
        method: req.method,
        route,
        status,
        cache,
        bytes: exchange.bytes,
        durationMs: Math.round((performance.now() - exchange.arrivedAt) * 10) / 10,
        model: exchange.model ?? null,
        // A named upstream's name, else the default upstream's family (protocol routes only).
        upstream: exchange.upstream ?? null,
        namespace: exchange.namespace ?? null,
        key: exchange.key ?? null,
        // false when the client left or the connection was cut before the last byte.
        completed: res.writableFinished,
      },
      `${req.method} ${route} ${status}${cache ? ` ${cache}` : ''}`,
    );
  };
}

/** Body bytes written to the response, whichever handler writes them. */
function countBodyBytes(res: ServerResponse, exchange: Exchange): void {
  const size = (chunk: unknown, encoding?: unknown): number => {
    if (typeof chunk === 'string') {
      return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    }
    return chunk instanceof Uint8Array ? chunk.byteLength : 0;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    exchange.bytes += size(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
    if (typeof chunk !== 'function') exchange.bytes += size(chunk, rest[0]);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
}
