import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody } from '../protocols/error-body.js';
import type { ProtocolFamily } from '../protocols/types.js';
import { requestTarget } from './http.js';

/**
 * Errors node:http raises before a request reaches a handler (a header block over the limit, a
 * client too slow to send its request, a malformed request line). Node's default answer has an
 * empty body; this one is in the error shape of the route's protocol when the request line could
 * be read, so an SDK shows a message instead of "unknown error".
 */

interface ClientErrorAnswer {
  status: number;
  reason: string;
  message: string;
  code: string;
}

function answerFor(code: string | undefined, maxHeaderSize: number): ClientErrorAnswer | undefined {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        message: `the request headers exceed ${maxHeaderSize} bytes`,
        code: 'headers_too_large',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        message: 'the request (headers and body) was not received in time',
        code: 'request_timeout',
      };
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    default:
      return { status: 400, reason: 'Bad Request', message: 'the request is not valid HTTP/1.1', code: 'bad_http' };
  }
}

/** The path of the request line at the start of what was received, if it is there. */
function requestPath(raw: unknown): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  const line = /^[A-Z]{3,10} (\/[^ ?\r\n]*)/.exec(raw.subarray(0, 2048).toString('latin1'));
  return line?.[1];
}

/** How long a half-closed connection may keep sending (its headers) before it is destroyed. */
const LINGER_MS = 2000;

export function answerClientErrors(
  server: Server,
  familyForPath: (path: string) => ProtocolFamily,
  maxHeaderSize: number,
): void {
  // The last response of each connection, from the public 'request' event (node keeps its own
  // on a private socket field): a request whose headers arrived but whose body is too slow has one.
  const responses = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => responses.set(req.socket, res));
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket) => {
    const answer = answerFor(err.code, maxHeaderSize);
    const last = responses.get(socket);
    const inFlight = last && !last.writableEnded ? last : undefined;
    // A response already on the wire cannot be followed by another one.
    if (!answer || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const path = inFlight ? requestTarget(inFlight.req.url ?? '/')?.path : requestPath(err.rawPacket);
    const family = path === undefined ? 'openai' : familyForPath(path);
    const body = JSON.stringify(errorBody(family, answer.status, answer.message, answer.code));
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
    if (inFlight) {
      inFlight.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-sluice-error': answer.code,
        connection: 'close',
      });
      inFlight.end(body);
      return;
    }
    // end(), not destroy(): the client may still be sending, and a reset could discard the answer.
    socket.end(
      `HTTP/1.1 ${answer.status} ${answer.reason}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-sluice-error: ${answer.code}\r\nconnection: close\r\n\r\n${body}`,
    );
    socket.resume();
  });
}
