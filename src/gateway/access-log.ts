import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger.js';

/**
 * What the request path learned about one request, for its access-log line. Set piecemeal
 * (noteRequest) by whichever handler knows it; read once when the response closes.
 */
export interface RequestNote {
  route: string;
  /** x-sluice-cache of the answer (HIT, MISS, ...), or NONE for a request refused before a lookup. */
  cache: string;
  model: string;
  namespace: string;
  /** The entry key (a hash), for finding the entry with /admin/entries. */
  key: string;
}

const notes = new WeakMap<ServerResponse, Partial<RequestNote>>();

export function noteRequest(res: ServerResponse, note: Partial<RequestNote>): void {
  const known = notes.get(res);
  if (known) Object.assign(known, note);
  else notes.set(res, { ...note });
}

/**
 * One structured info line per request, written when the response closes (finished or cut).
 * It names no header and no body: never a credential, never prompt text. The path is logged
 * without its query string, which may carry a key.
 */
export function logAccess(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  path: string,
): void {
  const startedAt = performance.now();
  const counter = countBodyBytes(res);
  res.once('close', () => {
    const note = notes.get(res) ?? {};
    const route = note.route ?? path;
    const status = res.statusCode;
    const cache = note.cache ?? null;
    logger.info(
      {
        access: true,
        requestId,
        method: req.method,
        route,
        status,
        cache,
        bytes: counter.bytes,
        durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
        model: note.model ?? null,
        namespace: note.namespace ?? null,
        key: note.key ?? null,
        // false when the client left or the connection was cut before the last byte.
        completed: res.writableFinished,
      },
      `${req.method} ${route} ${status}${cache ? ` ${cache}` : ''}`,
    );
  });
}

/** Body bytes written to the response, whichever handler writes them. */
function countBodyBytes(res: ServerResponse): { bytes: number } {
  const counter = { bytes: 0 };
  const size = (chunk: unknown, encoding?: unknown): number => {
    if (typeof chunk === 'string') {
      return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    }
    return chunk instanceof Uint8Array ? chunk.byteLength : 0;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    counter.bytes += size(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
    if (typeof chunk !== 'function') counter.bytes += size(chunk, rest[0]);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  return counter;
}
