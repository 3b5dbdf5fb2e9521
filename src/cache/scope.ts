import type { IncomingHttpHeaders } from 'node:http';
import { keyHeaderMaterial } from '../protocols/key-headers.js';
import { type CredentialSource, findCredential, type TenantIndex, withoutCredentialParams } from './credentials.js';
import { credentialScope, type RequestTarget } from './key.js';

/**
 * What scopes a cache key besides the request body, computed the same way by the gateway and
 * the library so that both can share one store.
 */

/** A configured base URL: where calls go, and its normalized form, which is part of every key. */
export interface BaseUrl {
  origin: string;
  /** Without a trailing slash: '/v1' for OpenAI's, '' for Anthropic's. */
  basePath: string;
  identity: string;
}

export function normalizeBaseUrl(baseURL: string): BaseUrl {
  const url = new URL(baseURL);
  const basePath = url.pathname.replace(/\/+$/, '');
  return { origin: url.origin, basePath, identity: `${url.origin}${basePath}` };
}

export interface RequestIdentityInput {
  /** Lower-case header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The upstream path the request goes to (base path included), without the query. */
  path: string;
  /** The query string as sent ('' or '?a=b'). */
  search: string;
  credentialSources: readonly CredentialSource[];
  shareAcrossCredentials: boolean;
  /** cache.tenants: keys that share one tenant's scope (key rotation). */
  tenants?: TenantIndex | undefined;
}

export interface RequestIdentity {
  /** The tenant: a hash of the client's credential, 'anonymous', or 'shared'. */
  scope: string;
  target: RequestTarget;
}

/**
 * Everything outside the body that decides which entry a request may see (DESIGN.md rules 3
 * and 4): the tenant scope from every credential source present, and the upstream path,
 * query (minus credentials) and key headers as key material.
 */
export function requestIdentity(input: RequestIdentityInput): RequestIdentity {
  // Most requests have no query string: then there is nothing to parse, and nothing in it to find.
  const query = input.search === '' ? NO_QUERY : new URLSearchParams(input.search);
  const scope = input.shareAcrossCredentials
    ? 'shared'
    : credentialScope(
        findCredential(input.headers, query === NO_QUERY ? undefined : query, input.credentialSources, input.tenants),
      );
  return {
    scope,
    target: {
      path: input.path,
      query: query === NO_QUERY ? [] : withoutCredentialParams(query, input.credentialSources),
      headers: keyHeaderMaterial(input.headers),
    },
  };
}

/** Read only (never handed out): the query of a request that has none. */
const NO_QUERY = new URLSearchParams();
