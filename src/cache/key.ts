import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue, ProtocolName } from '../protocols/types.js';

/** Bumped whenever key material or canonicalization changes, so old entries are simply never found. */
export const KEY_VERSION = 'v1';

export interface KeyInput {
  protocol: ProtocolName;
  /** Upstream identity: the normalized base URL answers come from. */
  upstream: string;
  /** Tenant scope: a credential hash, 'anonymous', or 'shared' when sharing is configured. */
  scope: string;
  namespace: string;
  /** The request fields that can change the answer (Protocol.keyMaterial). */
  material: JsonObject;
}

/**
 * The cache key: a version prefix and the SHA-256 of the canonical JSON of everything that can
 * change the answer. No prompt text and no credential appears in it.
 */
export function deriveCacheKey(input: KeyInput): string {
  const hash = createHash('sha256');
  hash.update(canonicalJson([input.protocol, input.upstream, input.scope, input.namespace, input.material]));
  return `${KEY_VERSION}:${hash.digest('hex')}`;
}

/** A credential as a scope: hashed, never stored or logged in clear. */
export function credentialScope(credential: string | undefined): string {
  if (!credential) return 'anonymous';
  return `cred:${createHash('sha256').update(credential).digest('hex').slice(0, 32)}`;
}

/** JSON with object keys sorted at every depth, so key order in a request never changes the key. */
export function canonicalJson(value: JsonValue | undefined): string {
  // Runs on every request: one string built left to right, no intermediate arrays of parts.
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = value[key];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}
