import { LRUCache } from 'lru-cache';
import { parseJsonBody } from './json-body.js';
import type { JsonBodyFailure } from './json-body.js';
import type { Protocol, RequestInfo, RouteParams } from './types.js';

export type BodyCheck =
  | { ok: true; request: RequestInfo }
  /** Not UTF-8, not JSON, or nested too deep. */
  | ({ ok: false; stage: 'parse' } & JsonBodyFailure)
  /** JSON, but not a request this protocol accepts. */
  | { ok: false; stage: 'validate'; message: string; param?: string | undefined };

export interface RequestMemoOptions {
  /** Distinct bodies kept. Default 1024. */
  maxEntries?: number;
  /** Bodies longer than this are checked every time, not kept. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Budget, in body bytes times PARSED_SIZE_FACTOR (what a parsed body costs, roughly). Default 16 MiB. */
  maxBytes?: number;
}

/** A parsed JSON body takes several times its text in memory; the budget counts it so. */
const PARSED_SIZE_FACTOR = 4;

/**
 * Parse and validate a request body, once per distinct body: the result is a pure function of
 * the protocol and the exact bytes, and a repeated request (which is what a cache hit is) would
 * otherwise pay the UTF-8 check, the depth check, JSON.parse and validation again each time. Only
 * the request is memoized, never a key: the key also depends on who asks and where (scope,
 * namespace, path, query, key headers), and is derived from all of those by the engine.
 *
 * Bounded in entries and in bytes; failures are not kept. The RequestInfo handed out is deeply
 * frozen, because requests with the same body share it: a write to it throws instead of leaking
 * into another request. Templated routes (Bedrock's, whose validation reads the path and headers)
 * are checked every time.
 */
export class RequestMemo {
  readonly #cache: LRUCache<string, Checked>;
  readonly #maxBodyBytes: number;

  constructor(
    private readonly maxJsonDepth: number,
    options: RequestMemoOptions = {},
  ) {
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.#cache = new LRUCache<string, Checked>({
      max: options.maxEntries ?? 1024,
      maxSize: options.maxBytes ?? 16 * 1024 * 1024,
      sizeCalculation: (_request, id) => Math.max(1, id.length * PARSED_SIZE_FACTOR),
    });
  }

  check(protocol: Protocol, body: Uint8Array | string, route?: RouteParams): BodyCheck {
    const size = typeof body === 'string' ? body.length : body.byteLength;
    if (route !== undefined || size > this.#maxBodyBytes) return checkBody(protocol, body, this.maxJsonDepth, route);
    // Keyed by the body's own characters (bytes read as latin1): a flat string, hashed as it is,
    // where prefixing the protocol would build a second string to flatten and hash. The protocol
    // and whether the body came as bytes or as text (the same characters may parse differently)
    // are checked in the value; a body sent to another protocol replaces the slot.
    const text = typeof body === 'string';
    const id = text ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
    const known = this.#cache.get(id);
    if (known && known.protocol === protocol.name && known.text === text) return { ok: true, request: known.request };
    const result = checkBody(protocol, body, this.maxJsonDepth, route);
    if (result.ok) this.#cache.set(id, { protocol: protocol.name, text, request: deepFreeze(result.request) });
    return result;
  }
}

/** A body's checked request, with what it was checked as. */
interface Checked {
  protocol: Protocol['name'];
  /** The body came as a string (else as bytes). */
  text: boolean;
  request: RequestInfo;
}

/** Parse, then validate: the one check every adapter runs on a request body. */
export function checkBody(
  protocol: Protocol,
  body: Uint8Array | string,
  maxJsonDepth: number,
  route?: RouteParams,
): BodyCheck {
  const parsed = parseJsonBody(body, maxJsonDepth);
  if (!parsed.ok) return { ok: false, stage: 'parse', code: parsed.code, message: parsed.message };
  const check = protocol.validate(parsed.value, route);
  if (!check.ok) return { ok: false, stage: 'validate', message: check.message, param: check.param };
  return check;
}

/** Freeze an object graph (iteratively: a body may nest as deep as the depth limit allows). */
function deepFreeze<T extends object>(root: T): T {
  const pending: object[] = [root];
  while (pending.length > 0) {
    const value = pending.pop() as object;
    if (Object.isFrozen(value)) continue;
    Object.freeze(value);
    for (const child of Object.values(value)) {
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
  return root;
}
