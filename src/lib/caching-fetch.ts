import type { IncomingHttpHeaders } from 'node:http';
import { parseControls } from '../cache/controls.js';
import { parseCredentialSources, TenantIndex } from '../cache/credentials.js';
import { type BaseUrl, normalizeBaseUrl, requestIdentity } from '../cache/scope.js';
import { type EngineCall, lifetimeOf } from '../engine/call.js';
import { errorBody } from '../protocols/error-body.js';
import { protocolForPath } from '../protocols/index.js';
import type { Protocol, ProtocolFamily } from '../protocols/types.js';
import { type LibraryCore, recordCall } from './core.js';
import { type FetchFunction, FetchPort, fetchSource } from './fetch-port.js';

/** A caller without a signal never leaves. */
const FOREVER = lifetimeOf(new AbortController().signal);

/**
 * A fetch that does at the HTTP level what the gateway does, through the same engine: POSTs on a
 * protocol route under the SDK's base URL are answered from the cache, from an identical call in
 * flight, or by the real fetch with the answer recorded and committed once the completeness gate
 * accepts it. Everything else goes to the real fetch untouched (minus x-sluice-* headers).
 */
export function createCachingFetch(
  core: LibraryCore,
  family: ProtocolFamily,
  baseURL: string,
  realFetch: FetchFunction,
): FetchFunction {
  const base = normalizeBaseUrl(baseURL);
  const credentialSources = parseCredentialSources(core.options.credentialSources);
  const tenants = new TenantIndex(core.options.tenants);
  return async (input, init = {}) => {
    if (typeof input !== 'string' && !(input instanceof URL)) return realFetch(input, init);
    const url = String(input);
    const headers = new Headers(init.headers);
    const headerRecord = lowerCaseRecord(headers);
    for (const name of Object.keys(headerRecord)) if (name.startsWith('x-sluice-')) headers.delete(name);
    const forwardInit: RequestInit = { ...init, headers };

    const route = routeFor(url, init, base, family);
    const protocol = route?.protocol;
    const bodyText = typeof init.body === 'string' ? init.body : undefined;
    if (!route || !protocol || bodyText === undefined) return realFetch(url, forwardInit);
    // Not JSON, nested past the depth limit, or not a valid request: the upstream's to refuse, in its own words.
    const check = core.requests.check(protocol, bodyText);
    if (!check.ok) {
      core.stats.bypass();
      return realFetch(url, forwardInit);
    }
    const controls = parseControls(headerRecord);
    if (!controls.ok) return controlsError(family, controls.header, controls.message);
    const namespace = headerRecord['x-sluice-namespace'] ? controls.controls.namespace : core.options.namespace;
    const signal = init.signal ?? undefined;
    const share = core.options.shareAcrossCredentials;
    const call: EngineCall = {
      protocol,
      request: check.request,
      controls: { ...controls.controls, namespace },
      upstream: base.identity,
      identity: () =>
        requestIdentity({
          headers: headerRecord,
          path: route.target.pathname,
          search: route.target.search,
          credentialSources,
          shareAcrossCredentials: share,
          tenants,
        }),
      caller: signal ? lifetimeOf(signal) : FOREVER,
      route: protocol.path,
      semantic: (keyInput) => core.semantic.prepare({ protocol, request: check.request, keyInput, controls: call.controls }),
      source: fetchSource(realFetch, url, forwardInit, check.request),
    };
    const port = new FetchPort(signal);
    // A call abandoned before the engine answered is rejected by the port itself, with the abort reason.
    const close = recordCall(core, call);
    let answered = false;
    try {
      await core.engine.run(call, port);
      answered = true;
    } finally {
      close(answered && !call.caller.left);
    }
    return port.response;
  };
}

/** The protocol for a POST under the base URL, by path relative to it; undefined for anything else. */
function routeFor(
  url: string,
  init: RequestInit,
  base: BaseUrl,
  family: ProtocolFamily,
): { protocol: Protocol; target: URL } | undefined {
  if ((init.method ?? 'GET').toUpperCase() !== 'POST') return undefined;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  if (target.origin !== base.origin || !target.pathname.startsWith(`${base.basePath}/`)) return undefined;
  const rest = target.pathname.slice(base.basePath.length);
  // OpenAI's base URL carries the version ('/v1'), Anthropic's does not: routes are '/v1/...'.
  const route = family === 'openai' ? `/v1${rest}` : rest;
  const protocol = protocolForPath(route);
  return protocol?.family === family ? { protocol, target } : undefined;
}

function lowerCaseRecord(headers: Headers): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

/** A bad x-sluice-* or Cache-Control header, answered as the provider would answer a bad request. */
function controlsError(family: ProtocolFamily, header: string, message: string): Response {
  const body = errorBody(family, 400, message, 'invalid_cache_control', header);
  return new Response(JSON.stringify(body), {
    status: 400,
    headers: { 'content-type': 'application/json', 'x-sluice-cache': 'BYPASS' },
  });
}
