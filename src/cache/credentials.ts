import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';

/**
 * Where a client's credential can come from, in one place: tenant scoping (every source present
 * is hashed into the key scope) and log redaction both read this list, so a source
 * added here is isolated and redacted at once.
 */

export interface CredentialSource {
  in: 'header' | 'query';
  /** Lower-case header name, or the query parameter name as written. */
  name: string;
}

/**
 * The default order: `authorization` (OpenAI, Anthropic with authToken), `x-api-key`
 * (Anthropic), `api-key` (Azure OpenAI), `x-goog-api-key` (Google), then `?key=` and
 * `?api-key=` in the query string (Google- and Azure-style keys in the URL).
 * Written as the config takes it: a header name, or `query:NAME`.
 */
export const DEFAULT_CREDENTIAL_SOURCES: readonly string[] = [
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'query:key',
  'query:api-key',
];

/** Header and query names accepted in a credential source list (RFC 9110 token characters). */
export const CREDENTIAL_SOURCE_PATTERN = /^(query:)?[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export function parseCredentialSources(list: readonly string[]): CredentialSource[] {
  return list.map((spec) =>
    spec.startsWith('query:')
      ? { in: 'query', name: spec.slice('query:'.length) }
      : { in: 'header', name: spec.toLowerCase() },
  );
}

export const DEFAULT_SOURCES: readonly CredentialSource[] = parseCredentialSources(DEFAULT_CREDENTIAL_SOURCES);

/**
 * The credentials the client presented, every source present, each tagged with where it came
 * from (the caller hashes the whole). Every source counts: two clients sending the same
 * `Authorization` and different `?key=` are two tenants, whichever the upstream reads.
 * The auth scheme of `authorization` is case-insensitive (RFC 9110 11.1), so `Bearer x` and
 * `bearer x` are one tenant.
 */
export function findCredential(
  headers: IncomingHttpHeaders,
  /** undefined: the request has no query string (most have none: nothing to look up there). */
  query: URLSearchParams | undefined,
  sources: readonly CredentialSource[],
  tenants: TenantIndex = NO_TENANTS,
): string | undefined {
  let first: string | undefined;
  let several: string[] | undefined;
  for (const source of sources) {
    const value = source.in === 'header' ? headerValue(headers, source.name) : query?.get(source.name);
    if (value === null || value === undefined) continue;
    const trimmed = value.trim();
    if (trimmed === '') continue;
    const normalized = source.name === 'authorization' && source.in === 'header' ? normalizeAuth(trimmed) : trimmed;
    const tenant = tenants.size === 0 ? undefined : tenants.of(secretOf(normalized, source));
    // A configured tenant's keys are one scope, whichever of its keys and sources the client sent.
    const found = tenant === undefined ? `${source.in}:${source.name}=${normalized}` : `tenant:${tenant}`;
    if (first === undefined) first = found;
    else (several ??= [first]).push(found);
  }
  // One source (the usual case) keeps its plain form, so entries stored before several sources
  // counted keep their scope; several are a JSON array, where no value can fake a boundary
  // (a plain form starts with `header:` or `query:`, never `[`).
  return several ? JSON.stringify(several) : first;
}

/**
 * Configured tenants (`cache.tenants`): a name and the SHA-256 (hex) of each of its API keys, so
 * that a rotated key keeps the tenant's entries (the old and the new key are one scope).
 */
export class TenantIndex {
  readonly #nameOfHash = new Map<string, string>();
  /** Keys seen and what they map to ('' for none): hashing once per key, not per request. */
  readonly #memo = new LRUCache<string, string>({ max: 4096 });

  constructor(tenants: Readonly<Record<string, readonly string[]>> = {}) {
    for (const [name, hashes] of Object.entries(tenants)) {
      for (const hash of hashes) this.#nameOfHash.set(hash.toLowerCase(), name);
    }
  }

  get size(): number {
    return this.#nameOfHash.size;
  }

  /** The tenant whose key this is, if any. */
  of(secret: string): string | undefined {
    let name = this.#memo.get(secret);
    if (name === undefined) {
      name = this.#nameOfHash.get(createHash('sha256').update(secret).digest('hex')) ?? '';
      this.#memo.set(secret, name);
    }
    return name === '' ? undefined : name;
  }
}

const NO_TENANTS = new TenantIndex();

/** The key itself, as an operator hashes it: the value, without `authorization`'s scheme. */
function secretOf(normalized: string, source: CredentialSource): string {
  if (source.in !== 'header' || source.name !== 'authorization') return normalized;
  const space = normalized.indexOf(' ');
  return space < 0 ? normalized : normalized.slice(space + 1);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `Bearer x`, `bearer  x` and `BEARER x` are one credential. */
function normalizeAuth(value: string): string {
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s+(.*)$/s.exec(value);
  return match ? `${(match[1] as string).toLowerCase()} ${match[2] as string}` : value;
}

/** Query parameters always treated as secrets in logs, whatever the source list says. */
const ALWAYS_SECRET_QUERY = ['key', 'api-key', 'api_key', 'apikey', 'access_token', 'token', 'sig', 'signature'];

/** Headers always treated as secrets in logs. */
export const SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
];

const REDACTED = '[redacted]';

/**
 * A URL (or a bare path with a query) safe to log: every credential-bearing query parameter's
 * value is replaced, and any userinfo (`user:password@`) is dropped.
 */
export function redactUrl(url: string | undefined, sources: readonly CredentialSource[] = DEFAULT_SOURCES): string {
  if (url === undefined) return '';
  const secrets = new Set(ALWAYS_SECRET_QUERY);
  for (const source of sources) if (source.in === 'query') secrets.add(source.name.toLowerCase());
  const out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
  const q = out.indexOf('?');
  if (q < 0) return out;
  const hash = out.indexOf('#', q);
  const query = out.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        name = rawName;
      }
      return secrets.has(name.toLowerCase()) && eq >= 0 ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
  return `${out.slice(0, q + 1)}${redacted}${hash < 0 ? '' : out.slice(hash)}`;
}

/** Headers safe to log: credential headers (the defaults and every header source) replaced. */
export function redactHeaders(
  headers: Record<string, string | string[] | number | undefined>,
  sources: readonly CredentialSource[] = DEFAULT_SOURCES,
): Record<string, string | string[] | number | undefined> {
  const secrets = new Set(SECRET_HEADERS);
  for (const source of sources) if (source.in === 'header') secrets.add(source.name);
  const out: Record<string, string | string[] | number | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = secrets.has(name.toLowerCase()) && value !== undefined ? REDACTED : value;
  }
  return out;
}

/**
 * The request headers and query an upstream with its own key receives: no client credential
 * from any source, the configured ones and the defaults alike (an operator who narrowed the list
 * for scoping still never forwards a client's `api-key` to an upstream that has its own key).
 */
export function removeCredentialHeaders(headers: Record<string, string>, sources: readonly CredentialSource[]): void {
  for (const source of [...sources, ...DEFAULT_SOURCES]) if (source.in === 'header') delete headers[source.name];
}

/** A query string (`''` or `?...`) without any credential parameter (see removeCredentialHeaders). */
export function withoutCredentialQuery(search: string, sources: readonly CredentialSource[]): string {
  if (search === '') return search;
  const query = new URLSearchParams(search);
  for (const source of [...sources, ...DEFAULT_SOURCES]) if (source.in === 'query') query.delete(source.name);
  const rest = query.toString();
  return rest === '' ? '' : `?${rest}`;
}

/** The query minus credential parameters: the rest is key material, the credential is scope. */
export function withoutCredentialParams(
  query: URLSearchParams,
  sources: readonly CredentialSource[],
): Array<[string, string]> {
  const credentialNames = new Set(sources.filter((s) => s.in === 'query').map((s) => s.name));
  const out: Array<[string, string]> = [];
  for (const [name, value] of query) if (!credentialNames.has(name)) out.push([name, value]);
  return out;
}
