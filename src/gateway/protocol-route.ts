import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OutcomeHeaders } from '../cache/cache-status.js';
import { parseControls, type RequestControls } from '../cache/controls.js';
import { type RequestIdentity, requestIdentity } from '../cache/scope.js';
import type { KeyInput } from '../cache/key.js';
import type { UpstreamSource } from '../engine/drive.js';
import type { SemanticQuery } from '../semantic/layer.js';
import type { FlightListener } from '../capture/flight.js';
import type { CallPort, EngineCall, FollowerAnswer, Found } from '../engine/call.js';
import type { Protocol, RequestInfo, RouteParams } from '../protocols/types.js';
import type { ReplayPlan } from '../replay/replay.js';
import type { UsageStripper } from '../replay/usage-strip.js';
import { ClientResponse, sendFollowerAnswer, sendReplay } from './client-response.js';
import type { GatewayContext } from './context.js';
import type { Exchange } from './exchange.js';
import {
  BodyTooLargeError,
  discardRestOfBody,
  isJsonMediaType,
  readBody,
  sendError,
  upstreamRequestHeaders,
} from './http.js';
import { tenantScope } from './tenant-scope.js';
import { withoutExcludedQuery } from '../protocols/key-exclusions.js';
import { applyUpstreamCredential, httpSource, type Upstream, type UpstreamLimits, upstreamPath, upstreamSearch } from './upstream.js';

/** One request on a protocol route, as the router hands it over. */
export interface ProtocolRouteCall {
  ctx: GatewayContext;
  protocol: Protocol;
  req: IncomingMessage;
  res: ServerResponse;
  exchange: Exchange;
  /** The query string as sent ('' or '?a=b'). */
  search: string;
  /** A templated route's parameters (Bedrock's model id). */
  route: RouteParams | undefined;
  /** A named upstream's (`/groq/v1/...`); absent: the family's default upstream. */
  upstream?: Upstream | undefined;
  /** The named upstream's path prefix (`/groq`), which a Bedrock client's signature covers. */
  prefix?: string | undefined;
}

interface Admitted {
  request: RequestInfo;
  controls: RequestControls;
  rawBody: Buffer;
  /** Set when the protocol family authenticates its clients itself (Bedrock's SigV4). */
  tenantScope: string | undefined;
}

/**
 * POST on a protocol route: the HTTP adapter over the engine. It admits the request (media type,
 * body, JSON, protocol validation, cache controls), then the engine answers it from the cache, a
 * flight in progress, or upstream. The caller's lifetime is the Exchange's, from arrival, so a
 * client that leaves while the body is read or the store is slow is seen leaving.
 */
export async function handleProtocolRoute(routeCall: ProtocolRouteCall): Promise<void> {
  const { ctx, protocol, res, exchange } = routeCall;
  exchange.record.routed(protocol.path, protocol.name);
  // Counted by upstream from here on, refusals included.
  exchange.record.via(routeCall.upstream?.name ?? protocol.family);
  const admitted = await admit(routeCall);
  if (!admitted) return;
  const call = new GatewayCall(routeCall, admitted);
  exchange.record.requested(call.request.model, call.controls.namespace);
  await ctx.engine.run(call, new HttpPort(ctx, protocol, res, exchange));
}

/**
 * One admitted request as the engine takes it. A class, so that a cache hit builds one object:
 * what only a key or a forward needs (the identity, the semantic view, the upstream source) is
 * computed by its methods when the engine asks, never before the lookup.
 */
class GatewayCall implements EngineCall {
  readonly protocol: Protocol;
  readonly request: RequestInfo;
  readonly controls: RequestControls;
  /** Where answers come from (the normalized base URL): part of the key. */
  readonly upstream: string;
  readonly caller: Exchange;
  readonly route: string;
  readonly routePrefix: string | undefined;
  readonly requestId: string;
  readonly record: Exchange['record'];
  readonly limits: UpstreamLimits;
  readonly #call: ProtocolRouteCall;
  readonly #target: Upstream;
  readonly #admitted: Admitted;

  constructor(routeCall: ProtocolRouteCall, admitted: Admitted) {
    const { ctx, protocol, exchange } = routeCall;
    const target = routeCall.upstream ?? ctx.upstreams[protocol.family];
    this.#call = routeCall;
    this.#target = target;
    this.#admitted = admitted;
    this.protocol = protocol;
    this.request = admitted.request;
    // Entries of a named upstream carry its tag, so they can be purged by upstream.
    this.controls = target.tag ? { ...admitted.controls, tags: [...admitted.controls.tags, target.tag] } : admitted.controls;
    this.upstream = target.identity;
    this.caller = exchange;
    this.route = protocol.path;
    this.routePrefix = routeCall.prefix;
    this.requestId = exchange.requestId;
    this.record = exchange.record;
    this.limits = target.limits ?? ctx.config.limits;
  }

  identity(): RequestIdentity {
    const { ctx, protocol, req, search } = this.#call;
    const identity = requestIdentity({
      headers: req.headers,
      // Routes of one protocol that answer each other (Converse and ConverseStream) share a key path.
      path: upstreamPath(this.#target, protocol.keyPath ?? protocol.path, ''),
      // Framing-only query parameters (Gemini's `alt`) are not key material (key-exclusions.ts).
      search: withoutExcludedQuery(protocol.name, search),
      credentialSources: ctx.credentialSources,
      shareAcrossCredentials: ctx.config.cache.shareAcrossCredentials,
      tenants: ctx.tenants,
    });
    // A protocol family that authenticates its clients itself (Bedrock's SigV4) decides the scope.
    return { scope: this.#admitted.tenantScope ?? identity.scope, target: identity.target };
  }

  semantic(keyInput: KeyInput): SemanticQuery | undefined {
    return this.#call.ctx.semantic.prepare({ protocol: this.protocol, request: this.request, keyInput, controls: this.controls });
  }

  /** Asked for by a forward only: a hit or a follower never builds it. */
  get source(): UpstreamSource {
    const { ctx, req, search, route, protocol, exchange } = this.#call;
    const upstream = this.#target;
    const { request, rawBody } = this.#admitted;
    // The request's path as the client encoded it (a templated route's), forwarded as is.
    const requestPath = route?.rawPath ?? protocol.path;
    return httpSource(
      upstream.agent ?? ctx.agent,
      (sent) => {
        const headers = upstreamRequestHeaders(req.headers);
        headers['x-request-id'] = exchange.requestId;
        if (exchange.traceHeaders) Object.assign(headers, exchange.traceHeaders);
        applyUpstreamCredential(headers, upstream, ctx.credentialSources);
        // The client's bytes, unless Sluice changed the request (requestStreamUsage).
        const body = sent === request ? rawBody : Buffer.from(JSON.stringify(sent.body));
        return { upstream, method: 'POST', path: upstreamPath(upstream, requestPath, upstreamSearch(upstream, search, ctx.credentialSources)), headers, body };
      },
      this.limits,
    );
  }
}

/** The engine's answers, written to one node:http response; the bytes sent go to the outcome record. */
class HttpPort implements CallPort {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly protocol: Protocol,
    private readonly res: ServerResponse,
    private readonly exchange: Exchange,
  ) {}

  replay(plan: ReplayPlan, _found: Found, headers: OutcomeHeaders): boolean {
    sendReplay(this.res, plan, headers, this.bytes('cache'), this.exchange.requestId);
    return true;
  }

  stream(headers: OutcomeHeaders, stripper?: UsageStripper): FlightListener {
    return new ClientResponse(this.res, {
      stripper,
      family: this.protocol.family,
      flushIntervalMs: this.ctx.config.flushIntervalMs,
      headers: { 'x-request-id': this.exchange.requestId, ...headers },
      onBytes: this.bytes('upstream'),
    });
  }

  answer(answer: FollowerAnswer, headers: OutcomeHeaders): void {
    const source = answer.kind === 'replay' ? 'cache' : 'upstream';
    sendFollowerAnswer(this.res, this.protocol.family, answer, { 'x-request-id': this.exchange.requestId, ...headers }, this.bytes(source));
  }

  private bytes(source: 'cache' | 'upstream'): (n: number) => void {
    const { record } = this.exchange;
    return (n) => record.sent(n, source);
  }
}

/** Parse and validate; on any problem answer in the protocol's error shape and return undefined. */
async function admit({ ctx, protocol, req, res, exchange, search, route, prefix }: ProtocolRouteCall): Promise<Admitted | undefined> {
  const idHeader = { 'x-request-id': exchange.requestId };
  const reject = (status: number, message: string, code: string, param?: string) => {
    exchange.record.refused(protocol.path, status);
    sendError(res, protocol.family, status, message, code, idHeader, param);
    return undefined;
  };
  if (!isJsonMediaType(req.headers['content-type'])) {
    discardRestOfBody(req);
    return reject(
      415,
      'Content-Type must be application/json (or a */*+json type), with no charset other than utf-8',
      'unsupported_media_type',
    );
  }
  let rawBody: Buffer;
  try {
    rawBody = await readBody(req, ctx.config.limits.maxRequestBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      discardRestOfBody(req);
      ctx.metrics.abortedStreams.inc({ reason: 'request_too_large' });
      return reject(413, err.message, 'request_too_large');
    }
    return reject(400, 'the request body could not be read', 'invalid_body');
  }
  // A templated route's validation may read the query (Gemini's `alt` decides the framing).
  const check = ctx.requests.check(protocol, rawBody, route && { ...route, search });
  if (!check.ok) {
    return check.stage === 'parse'
      ? reject(400, check.message, check.code)
      : reject(400, check.message, 'invalid_request', check.param);
  }
  const controls = parseControls(req.headers);
  if (!controls.ok) return reject(400, controls.message, 'invalid_cache_control', controls.header);
  // A Bedrock client signed the path it sent, named upstream prefix included.
  const signedRoute = route && prefix ? { ...route, rawPath: prefix + route.rawPath } : route;
  const pending = tenantScope(ctx, protocol, req, signedRoute, rawBody, search);
  const tenant = pending instanceof Promise ? await pending : pending;
  if (!tenant.ok) return reject(tenant.status, tenant.message, tenant.code);
  return { request: check.request, controls: controls.controls, rawBody, tenantScope: tenant.scope };
}
