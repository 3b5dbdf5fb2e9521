import type { IncomingHttpHeaders } from 'node:http';
import { type CachePlan, parseControls, planCache, type RequestControls } from '../cache/controls.js';
import {
  COALESCED_HEADERS,
  forwardHeaders,
  hitHeaders,
  keyHeader,
  semanticHitHeaders,
  shadowHeaders,
} from '../cache/cache-status.js';
import { parseCredentialSources } from '../cache/credentials.js';
import { deriveCacheKey, type KeyInput } from '../cache/key.js';
import { type BaseUrl, normalizeBaseUrl, requestIdentity } from '../cache/scope.js';
import { Flight, type FlightListener, type FlightOutcome } from '../capture/flight.js';
import { judgeAnswer } from '../capture/gate.js';
import { errorBody } from '../protocols/error-body.js';
import { protocolForPath } from '../protocols/index.js';
import { parseJsonBody } from '../protocols/json-body.js';
import type { Protocol, ProtocolFamily, RequestInfo } from '../protocols/types.js';
import { checkHit, entryServes, planReplay, sameFraming } from '../replay/replay.js';
import type { SemanticQuery } from '../semantic/layer.js';
import type { CacheCore } from './core.js';
import { driveFlightWithFetch, type FetchFunction, StreamingListener } from './fetch-flight.js';
import { replayResponse } from './replay-response.js';

/** One cacheable call, after routing and validation. */
interface Call {
  protocol: Protocol;
  request: RequestInfo;
  controls: RequestControls;
  plan: CachePlan;
  key: string;
  url: string;
  init: RequestInit;
  semantic: SemanticQuery | undefined;
  shadowSimilarity?: number | undefined;
}

/**
 * A fetch that does at the HTTP level what the gateway does: POSTs on a protocol route under the
 * SDK's base URL are answered from the cache, from an identical call in flight, or by the real
 * fetch with the answer recorded and stored once the completeness gate accepts it. Everything
 * else goes to the real fetch untouched (minus x-sluice-* headers).
 */
export function createCachingFetch(
  core: CacheCore,
  family: ProtocolFamily,
  baseURL: string,
  realFetch: FetchFunction,
): FetchFunction {
  const base = normalizeBaseUrl(baseURL);
  const credentialSources = parseCredentialSources(core.options.credentialSources);
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
    // Not JSON, or nested past the depth limit: the upstream's to refuse, in its own words.
    const parsed = parseJsonBody(bodyText);
    if (!parsed.ok) {
      core.stats.bypass();
      return realFetch(url, forwardInit);
    }
    // An invalid request is the upstream's to refuse, in its own words.
    const check = protocol.validate(parsed.value);
    if (!check.ok) {
      core.stats.bypass();
      return realFetch(url, forwardInit);
    }
    const controls = parseControls(headerRecord);
    if (!controls.ok) return controlsError(family, controls.header, controls.message);

    const request = check.request;
    const namespace = headerRecord['x-sluice-namespace']
      ? controls.controls.namespace
      : core.options.namespace;
    const keyInput: KeyInput = {
      protocol: protocol.name,
      upstream: base.identity,
      ...requestIdentity({
        headers: headerRecord,
        path: route.target.pathname,
        search: route.target.search,
        credentialSources,
        shareAcrossCredentials: core.options.shareAcrossCredentials,
      }),
      namespace,
      material: protocol.keyMaterial(request),
    };
    const callControls = { ...controls.controls, namespace };
    const call: Call = {
      protocol,
      request,
      controls: callControls,
      plan: planCache(core.options.mode, controls.controls, protocol.cacheability(request)),
      key: deriveCacheKey(keyInput),
      url,
      init: forwardInit,
      semantic: core.semantic.prepare({ protocol, request, keyInput, controls: callControls }),
    };
    return answer(core, call, realFetch);
  };
}

async function answer(core: CacheCore, call: Call, realFetch: FetchFunction): Promise<Response> {
  const { plan, key, request, controls, protocol } = call;
  const signal = call.init.signal ?? undefined;
  if (plan.read) {
    const entry = await core.safeGet(key);
    const hit = entry && checkHit(entry, request, controls.maxAgeSeconds);
    if (entry && hit?.usable) {
      core.stats.hit(entry.usage, [entry.model, request.model]);
      const replay = planReplay(protocol, entry, request, controls.replay ?? core.options.replay);
      return replayResponse(replay, new Headers({ ...hitHeaders(hit.ageSeconds, hit.ttlSeconds), ...keyHeader(key) }), signal);
    }
    const semantic = call.semantic && (await semanticAnswer(core, call));
    if (semantic) return semantic;
  }
  if (plan.forwardOutcome === 'BYPASS') core.stats.bypass();
  else core.stats.miss();

  if (plan.coalesce) {
    const joined = join(core, call, realFetch);
    if (joined) return joined;
  }
  return forward(core, call, realFetch);
}

/** After an exact miss: a semantic hit's response, or undefined (noting a shadow match for the forward headers). */
async function semanticAnswer(core: CacheCore, call: Call): Promise<Response | undefined> {
  const { request, controls, protocol } = call;
  if (!call.semantic) return undefined;
  const outcome = await core.semantic.lookup(
    call.semantic,
    (key) => core.safeGet(key),
    (entry) => checkHit(entry, request, controls.maxAgeSeconds),
  );
  if (outcome.kind === 'shadow') call.shadowSimilarity = outcome.similarity;
  if (outcome.kind !== 'hit') return undefined;
  const { entry } = outcome;
  core.stats.semanticHit(entry.usage, [entry.model, request.model]);
  const replay = planReplay(protocol, entry, request, controls.replay ?? core.options.replay);
  // x-sluice-key names the entry that answered, so an operator can inspect or purge it.
  const headers = new Headers({ ...semanticHitHeaders(outcome.similarity, outcome.ageSeconds), ...keyHeader(outcome.key) });
  return replayResponse(replay, headers, call.init.signal ?? undefined);
}

/** Join an identical call in flight; undefined when there is none to join. */
function join(core: CacheCore, call: Call, realFetch: FetchFunction): Promise<Response> | undefined {
  const flight = core.flights.joinable(call.key);
  const leader = flight && core.leaders.get(flight);
  if (!flight || !leader) return undefined;
  core.stats.coalesce();
  const signal = call.init.signal ?? undefined;
  if (sameFraming(leader.request, call.request)) {
    const listener = new StreamingListener(flight, {
      extraHeaders: { ...COALESCED_HEADERS, ...keyHeader(call.key) },
      signal,
      afterWrite: leader.afterWrite,
    });
    flight.attach(listener);
    return listener.response;
  }
  // Stream vs JSON differ: wait for the whole answer and convert it, as a hit would; when it
  // cannot serve this call exactly, make a call of our own instead of a wrong answer.
  return new Promise<Response>((resolve, reject) => {
    const converting: FlightListener = {
      raw: false,
      onHead: () => undefined,
      onData: () => undefined,
      onSettled: (outcome: FlightOutcome) => {
        const entry =
          outcome.kind === 'ended' && outcome.verdict.storable ? outcome.verdict.entry : undefined;
        if (entry && entryServes(entry, call.request)) {
          const replay = planReplay(call.protocol, entry, call.request, 'instant');
          resolve(replayResponse(replay, new Headers({ ...COALESCED_HEADERS, ...keyHeader(call.key) }), signal));
          return;
        }
        forward(core, { ...call, plan: { ...call.plan, coalesce: false } }, realFetch).then(resolve, reject);
      },
    };
    flight.attach(converting);
    signal?.addEventListener(
      'abort',
      () => {
        flight.detach(converting);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Go upstream through one flight: recorded, judged at the end, stored when the plan allows. */
function forward(core: CacheCore, call: Call, realFetch: FetchFunction): Promise<Response> {
  const { protocol, request, plan, key, controls } = call;
  const meta = {
    ttlMs: (controls.ttlSeconds ?? core.options.ttlSeconds) * 1000,
    namespace: controls.namespace,
    tags: controls.tags,
  };
  let write: Promise<unknown> = Promise.resolve();
  const flight = new Flight({
    maxEntryBytes: core.options.maxEntryBytes,
    maxListeners: 1000,
    completeOnDisconnect: false,
    // Nothing to store and nobody to share with: a plain pipe, as in the gateway.
    judge:
      plan.write || plan.coalesce
        ? (head, recorder, upstreamMs) => {
            const verdict = judgeAnswer(protocol, request, head, recorder, { ...meta, upstreamMs });
            // Started inside the gate, before any caller sees the end, so a finished body means "stored".
            if (verdict.storable && plan.write) {
              const entry = verdict.entry;
              write = core.safeSet(key, entry).then((stored) => {
                // Only what the exact cache stored becomes a semantic candidate.
                if (stored && call.semantic) void core.semantic.record(call.semantic, key, entry);
                return stored;
              });
            }
            return verdict;
          }
        : undefined,
  });
  const afterWrite = () => write;
  if (plan.coalesce) {
    core.flights.register(key, flight);
    core.leaders.set(flight, { request, afterWrite });
  }
  flight.onSettled(() => {
    void write.finally(() => core.flights.release(key, flight));
  });
  const listener = new StreamingListener(flight, {
    extraHeaders: {
      ...forwardHeaders(plan.forwardOutcome),
      ...keyHeader(plan.forwardOutcome === 'BYPASS' ? '' : key),
      ...shadowHeaders(call.shadowSimilarity),
    },
    signal: call.init.signal ?? undefined,
    afterWrite,
  });
  flight.attach(listener);
  void driveFlightWithFetch(flight, realFetch, call.url, call.init);
  return listener.response;
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
