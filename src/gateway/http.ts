import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { errorBody } from '../protocols/error-body.js';
import type { ProtocolFamily } from '../protocols/types.js';

/** Headers that describe one connection, never forwarded (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers that are ours or that undici sets itself. */
const NOT_FORWARDED_UPSTREAM = new Set([
  'host',
  'content-length',
  'accept-encoding',
  'cache-control',
  'expect',
]);

/** Response headers that would be wrong once re-framed by Sluice or shared through the cache. */
const NOT_FORWARDED_DOWNSTREAM = new Set(['content-length', 'set-cookie', 'date', 'x-request-id']);

function connectionTokens(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Set<string> {
  const value = headers.connection;
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    joined
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** The client's headers as they should reach the upstream; x-sluice-* and hop-by-hop removed. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const listed = connectionTokens(headers);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (
      HOP_BY_HOP.has(name) ||
      NOT_FORWARDED_UPSTREAM.has(name) ||
      listed.has(name) ||
      name.startsWith('x-sluice-')
    )
      continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // Recorded bytes must be parseable: ask the upstream not to compress.
  out['accept-encoding'] = 'identity';
  return out;
}

/** Upstream response headers as they may reach a client. */
export function downstreamResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || NOT_FORWARDED_DOWNSTREAM.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  const upstreamId = headers['x-request-id'];
  if (upstreamId !== undefined) out['x-upstream-request-id'] = upstreamId;
  return out;
}

export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

/** Read a request body, refusing (without buffering) anything past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(
      new BodyTooLargeError(`request body of ${declared} bytes exceeds the ${limit}-byte limit`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(`request body exceeds the ${limit}-byte limit`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** Answer with an error raised by Sluice itself, in the client protocol's shape. */
export function sendError(
  res: ServerResponse,
  family: ProtocolFamily,
  status: number,
  message: string,
  code: string,
  extraHeaders: OutgoingHttpHeaders = {},
  param?: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(family, status, message, code, param));
  res.writeHead(status, {
    ...extraHeaders,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-sluice-error': code,
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extraHeaders: OutgoingHttpHeaders = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...extraHeaders,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
