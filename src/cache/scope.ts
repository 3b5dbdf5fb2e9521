import type { IncomingHttpHeaders } from 'node:http';
import type { ProtocolFamily } from '../protocols/types.js';

/**
 * What scopes a cache key besides the request itself, computed the same way by the gateway and
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

/** The credential the client presented, for tenant scoping (the caller hashes it). */
export function clientCredential(headers: IncomingHttpHeaders, family: ProtocolFamily): string | undefined {
  const apiKey = headers['x-api-key'];
  const auth = headers.authorization;
  if (family === 'anthropic' && typeof apiKey === 'string' && apiKey) return apiKey;
  if (typeof auth === 'string' && auth) return auth;
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}
