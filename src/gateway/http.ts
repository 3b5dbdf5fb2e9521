import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { SluiceError } from '../errors.js';
import { errorBody, errorHeaders } from '../protocols/error-body.js';
import type { ProtocolFamily } from '../protocols/types.js';
import { SESSION_COOKIE } from './dashboard/session.js';

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

const NO_TOKENS: ReadonlySet<string> = new Set();
const CLOSE_TOKEN: ReadonlySet<string> = new Set(['close']);

function connectionTokens(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): ReadonlySet<string> {
  const value = headers.connection;
  // The usual values, without a set built per message (keep-alive is hop-by-hop anyway).
  if (value === undefined || value === 'keep-alive') return NO_TOKENS;
  if (value === 'close') return CLOSE_TOKEN;
  const joined = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    joined
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function withoutSessionCookie(cookie: string): string {
  return cookie
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !part.startsWith(`${SESSION_COOKIE}=`))
    .join('; ');
}

/** The client's headers as they should reach the upstream; x-sluice-* and hop-by-hop removed. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const listed = connectionTokens(headers);
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (
      HOP_BY_HOP.has(name) ||
      NOT_FORWARDED_UPSTREAM.has(name) ||
      listed.has(name) ||
      name.startsWith(':') ||
      name.startsWith('x-sluice-')
    )
      continue;
    if (name === 'cookie') {
      // The dashboard session is Sluice's own credential: it never goes to a provider.
      const kept = withoutSessionCookie(Array.isArray(value) ? value.join('; ') : value);
      if (kept) out.cookie = kept;
      continue;
    }
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
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || NOT_FORWARDED_DOWNSTREAM.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  const upstreamId = headers['x-request-id'];
  if (upstreamId !== undefined) out['x-upstream-request-id'] = upstreamId;
  return out;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Whether a Content-Type names JSON: `application/json` or any `type/subtype+json` (RFC 6839),
 * parsed as a media type (RFC 9110 section 8.3.1), with no charset but UTF-8 (RFC 8259 section 8.1).
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  // What the SDKs send, answered without splitting it (this runs on every request).
  if (header === 'application/json') return true;
  const [essence = '', ...params] = header.split(';');
  const slash = essence.indexOf('/');
  const type = essence.slice(0, slash).trim().toLowerCase();
  const subtype = essence.slice(slash + 1).trim().toLowerCase();
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return false;
  if (!(type === 'application' && subtype === 'json') && !subtype.endsWith('+json')) return false;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return false;
  }
  return true;
}

/** A request body past the configured limit (answered 413 in the client's protocol shape). */
export class BodyTooLargeError extends SluiceError {
  declare readonly code: 'BODY_TOO_LARGE';
  constructor(message: string) {
    super('BODY_TOO_LARGE', message);
    this.name = 'BodyTooLargeError';
  }
}

/** Read a request body, refusing (without buffering) anything past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(
      new BodyTooLargeError(`request body of ${declared} bytes exceeds the ${limit}-byte limit`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError(`request body exceeds the ${limit}-byte limit`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** How much of a refused body is read and thrown away, at most, before the connection is cut. */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
export const DISCARD_MAX_MS = 10_000;

/**
 * Call when answering before the request body was read (413, 415...). Closing at once would make
 * the kernel reset the connection while the client is still uploading, and a reset can destroy
 * the answer before the client reads it (EPIPE instead of 413). So the rest of the body is read
 * and discarded, up to DISCARD_MAX_BYTES or DISCARD_MAX_MS, and only a client past those bounds
 * is cut off. The connection stays usable once the body ended, as HTTP/1.1 allows.
 */
export function discardRestOfBody(req: IncomingMessage): void {
  if (req.complete) return;
  let discarded = 0;
  const cut = () => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(cut, DISCARD_MAX_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
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
    ...errorHeaders(family, status, code),
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

/**
 * The path and query of a request target, as the WHATWG URL parser gives them (dot segments
 * resolved, characters percent-encoded, the fragment dropped); undefined when it is no URL. An
 * origin-form target ('/...') is a path even when it starts with '//' (parsed relative to a base,
 * '//host/x' would name another host). A target made only of characters the parser leaves as they
 * are, with no dot and no query, is its own path: the common case skips the parser, with the same
 * result by construction (test/gateway/request-target.test.ts).
 */
export function requestTarget(target: string): { path: string; search: string } | undefined {
  if (PLAIN_PATH.test(target)) return { path: target, search: '' };
  try {
    const url = target.startsWith('/') ? new URL(`http://sluice.local${target}`) : new URL(target);
    return { path: url.pathname, search: url.search };
  } catch {
    return undefined;
  }
}

const PLAIN_PATH = /^\/[A-Za-z0-9_~/-]*$/;
