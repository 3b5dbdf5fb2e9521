import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { JsonObject, JsonValue, ProtocolName } from '../protocols/types.js';

/** Bumped whenever key material or canonicalization changes, so old entries are simply never found. */
export const KEY_VERSION = 'v2';

/** What the request was sent to, besides its body: DESIGN.md rule 3's "every input source". */
export interface RequestTarget {
  /** The upstream path, base path included ('/v1/chat/completions', '/openai/deployments/x/chat/completions'). */
  path: string;
  /** Query parameters in their order, credential parameters removed (those are scope). */
  query: Array<[string, string]>;
  /** The key headers present (src/protocols/key-headers.ts). */
  headers: Record<string, string>;
}

export interface KeyInput {
  protocol: ProtocolName;
  /** Upstream identity: the normalized base URL answers come from. */
  upstream: string;
  /** Tenant scope: a credential hash, 'anonymous', or 'shared' when sharing is configured. */
  scope: string;
  namespace: string;
  target: RequestTarget;
  /** The request fields that can change the answer (Protocol.keyMaterial). */
  material: JsonObject;
}

/**
 * The cache key: a version prefix and the SHA-256 of the canonical JSON of everything that can
 * change the answer. No prompt text and no credential appears in it.
 */
export function deriveCacheKey(input: KeyInput): string {
  // Destructured so that a new KeyInput field is a compile error here until it is hashed.
  const { protocol, upstream, scope, namespace, target, material } = input;
  const { path, query, headers } = target;
  const hash = createHash('sha256');
  hash.update(canonicalJson([protocol, upstream, scope, namespace, path, query, headers, material]));
  return `${KEY_VERSION}:${hash.digest('hex')}`;
}

/** Everything a key is derived from but the request's own material. */
export type KeyFields = Omit<KeyInput, 'material'>;

/** Identities remembered per request object; past this the request's memo starts over. */
const MAX_IDENTITIES_PER_REQUEST = 8;

/**
 * deriveCacheKey, remembered for request objects shared between requests (the RequestMemo's,
 * which are frozen): a repeated request then skips building its key material, the canonical JSON
 * and the SHA-256. The memo slot is the request object AND every other key input (protocol,
 * upstream, scope, namespace, path, query, key headers), so two requests that must not share an
 * entry never share a slot; it lives as long as the request object does (a WeakMap), and holds
 * at most MAX_IDENTITIES_PER_REQUEST keys per object. Unfrozen requests are derived every time.
 */
export class KeyMemo {
  readonly #byRequest = new WeakMap<object, Map<string, string>>();

  derive(request: object, fields: KeyFields, material: () => JsonObject): string {
    if (!Object.isFrozen(request)) return deriveCacheKey({ ...fields, material: material() });
    // Destructured so that a new KeyInput field is a compile error here until it is in the slot id.
    const { protocol, upstream, scope, namespace, target } = fields satisfies Required<KeyFields>;
    // Protocol, scope, namespace (a validated name) and path (a URL's, percent-encoded) cannot hold a
    // NUL; only the query and the key headers need an encoding, and they are mostly absent.
    const plain = target.query.length === 0 && Object.keys(target.headers).length === 0;
    const id = plain
      ? `${protocol}\u0000${upstream}\u0000${scope}\u0000${namespace}\u0000${target.path}`
      : JSON.stringify([protocol, upstream, scope, namespace, target.path, target.query, target.headers]);
    let keys = this.#byRequest.get(request);
    const known = keys?.get(id);
    if (known !== undefined) return known;
    const key = deriveCacheKey({ ...fields, material: material() });
    if (!keys) this.#byRequest.set(request, (keys = new Map()));
    else if (keys.size >= MAX_IDENTITIES_PER_REQUEST) keys.clear();
    keys.set(id, key);
    return key;
  }
}

/** Credentials hashed so far (a bounded map: a client sends the same key on every request). */
const scopeOfCredential = new LRUCache<string, string>({ max: 4096 });

/** A credential as a scope: hashed, never stored or logged in clear. */
export function credentialScope(credential: string | undefined): string {
  if (!credential) return 'anonymous';
  let scope = scopeOfCredential.get(credential);
  if (scope === undefined) {
    scope = `cred:${createHash('sha256').update(credential).digest('hex').slice(0, 32)}`;
    scopeOfCredential.set(credential, scope);
  }
  return scope;
}

type Frame =
  | { array: readonly (JsonValue | undefined)[]; next: number }
  | { object: { readonly [key: string]: JsonValue | undefined }; keys: string[]; next: number; first: boolean };

const NOTHING = Symbol('nothing');

/**
 * JSON with object keys sorted at every depth, so key order in a request never changes the key.
 * Iterative with an explicit stack: no nesting depth can overflow the call stack, whatever the
 * caller let through. One string built left to right (it runs on every request).
 */
export function canonicalJson(value: JsonValue | undefined): string {
  let out = '';
  const stack: Frame[] = [];
  let current = value as JsonValue | undefined | typeof NOTHING;
  for (;;) {
    if (current !== NOTHING) {
      if (current === null || current === undefined) out += 'null';
      else if (typeof current !== 'object') out += JSON.stringify(current);
      else if (Array.isArray(current)) {
        out += '[';
        stack.push({ array: current, next: 0 });
      } else {
        out += '{';
        stack.push({ object: current, keys: Object.keys(current).sort(), next: 0, first: true });
      }
    }
    current = NOTHING;
    while (current === NOTHING && stack.length > 0) {
      const top = stack[stack.length - 1] as Frame;
      if ('array' in top) {
        if (top.next < top.array.length) {
          if (top.next > 0) out += ',';
          current = top.array[top.next++];
        } else {
          out += ']';
          stack.pop();
        }
        continue;
      }
      while (top.next < top.keys.length && top.object[top.keys[top.next] as string] === undefined) top.next++;
      if (top.next < top.keys.length) {
        const key = top.keys[top.next++] as string;
        if (!top.first) out += ',';
        top.first = false;
        out += `${JSON.stringify(key)}:`;
        current = top.object[key];
      } else {
        out += '}';
        stack.pop();
      }
    }
    if (current === NOTHING) return out;
  }
}
