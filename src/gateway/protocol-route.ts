import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CachePlan, parseControls, planCache, type RequestControls } from '../cache/controls.js';
import {
  COALESCED_HEADERS,
  forwardHeaders,
  hitHeaders,
  keyHeader,
  semanticHitHeaders,
  shadowHeaders,
} from '../cache/cache-status.js';
import { deriveCacheKey, type KeyInput } from '../cache/key.js';
import { requestIdentity } from '../cache/scope.js';
import { Flight } from '../capture/flight.js';
import { judgeAnswer } from '../capture/gate.js';
import { parseJsonBody } from '../protocols/json-body.js';
import type { Protocol, RequestInfo, RouteParams } from '../protocols/types.js';
import { checkHit, planReplay, sameFraming } from '../replay/replay.js';
import { stripperFor, withStreamUsage } from '../replay/usage-strip.js';
import type { SemanticQuery } from '../semantic/layer.js';
import { ClientResponse, sendReplay } from './client-response.js';
import { noteRequest } from './access-log.js';
import type { GatewayContext } from './context.js';
import { responseOutcome } from './dashboard/recorder.js';
import {
  BodyTooLargeError,
  discardRestOfBody,
  isJsonMediaType,
  readBody,
  sendError,
  upstreamRequestHeaders,
} from './http.js';
import { tenantScope } from './tenant-scope.js';
import { applyUpstreamCredential, driveFlight, upstreamPath } from './upstream.js';

/** Everything about one validated request that the cache paths need. */
interface CachedCall {
  protocol: Protocol;
  request: RequestInfo;
  controls: RequestControls;
  plan: CachePlan;
  key: string;
  rawBody: Buffer;
  /** The client's headers: turned into upstream headers only when the request goes upstream. */
  clientHeaders: IncomingMessage['headers'];
  requestId: string;
  /** The request's path as the client encoded it (a templated route's, forwarded as is). */
  requestPath: string;
  search: string;
  /** An entry existed but was older than the client's max-age. */
  stale: boolean;
  /** Undefined when the semantic layer is off or the request bypasses the cache. */
  semantic: SemanticQuery | undefined;
  /** Shadow mode: the similarity of the entry that would have answered. */
  shadowSimilarity?: number | undefined;
}

/** POST on a protocol route: validate, then answer from the cache, a flight in progress, or upstream. */
export async function handleProtocolRoute(
  ctx: GatewayContext,
  protocol: Protocol,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  search: string,
  route?: RouteParams,
): Promise<void> {
  const arrivedAt = performance.now();
  const call = await admit(ctx, protocol, req, res, requestId, search, route);
  if (!call) return;
  const { plan, key, request, controls } = call;

  if (plan.read) {
    const found = await ctx.store.lookup(key);
    if (found) {
      const { entry, layer } = found;
      const hit = checkHit(entry, request, controls.maxAgeSeconds);
      if (hit.usable) {
        ctx.metrics.cacheLookups.inc({ layer, result: 'hit' });
        ctx.metrics.lookupOutcomes.inc({ outcome: 'HIT' });
        // Savings count once the answer was delivered, like the response itself (countResponse).
        res.once('finish', () =>
          ctx.stats.record({
            type: 'hit',
            key,
            entry,
            requestModel: request.model,
            replayMs: performance.now() - arrivedAt,
          }),
        );
        const headers = {
          'x-request-id': requestId,
          ...hitHeaders(hit.ageSeconds, hit.ttlSeconds),
          ...keyHeader(key),
        };
        const plan = planReplay(protocol, entry, request, controls.replay ?? ctx.config.cache.replay);
        countResponse(ctx, protocol, res, 'HIT');
        sendReplay(res, plan, headers, (n) => ctx.metrics.bytesStreamed.inc({ source: 'cache' }, n));
        return;
      }
      // Too old for this client's max-age, or unable to answer it exactly: fetch a fresh one.
      call.stale = hit.stale;
    }
    if (call.semantic && (await semanticAnswer(ctx, call, res, arrivedAt))) return;
    ctx.metrics.cacheLookups.inc({ layer: 'none', result: 'miss' });
  } else {
    ctx.metrics.cacheLookups.inc({
      layer: 'none',
      result: plan.forwardOutcome === 'BYPASS' ? 'bypass' : 'refresh',
    });
  }

  const joined = plan.coalesce && joinFlight(ctx, call, res);
  if (plan.read) ctx.metrics.lookupOutcomes.inc({ outcome: joined ? 'COALESCED' : 'MISS' });
  if (!joined) forward(ctx, call, res);
}

/** Parse and validate; on any problem answer in the protocol's error shape and return undefined. */
async function admit(
  ctx: GatewayContext,
  protocol: Protocol,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  search: string,
  route: RouteParams | undefined,
): Promise<CachedCall | undefined> {
  const idHeader = { 'x-request-id': requestId };
  const reject = (status: number, message: string, code: string, param?: string) => {
    countResponse(ctx, protocol, res, 'NONE', status);
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
  const parsed = parseJsonBody(rawBody, ctx.config.limits.maxJsonDepth);
  if (!parsed.ok) return reject(400, parsed.message, parsed.code);
  const check = protocol.validate(parsed.value, route);
  if (!check.ok) return reject(400, check.message, 'invalid_request', check.param);
  const controls = parseControls(req.headers);
  if (!controls.ok) return reject(400, controls.message, 'invalid_cache_control', controls.header);

  const tenant = await tenantScope(ctx, protocol, req, route, rawBody, search);
  if (!tenant.ok) return reject(tenant.status, tenant.message, tenant.code);

  const request = check.request;
  const plan = planCache(ctx.config.cache.mode, controls.controls, protocol.cacheability(request));
  const upstream = ctx.upstreams[protocol.family];
  // A bypassed request never touches the cache, so it needs no key.
  const keyInputFor = (): KeyInput => {
    const identity = requestIdentity({
      headers: req.headers,
      // Routes of one protocol that answer each other (Converse and ConverseStream) share a key path.
      path: upstreamPath(upstream, protocol.keyPath ?? protocol.path, ''),
      search,
      credentialSources: ctx.credentialSources,
      shareAcrossCredentials: ctx.config.cache.shareAcrossCredentials,
    });
    return {
      protocol: protocol.name,
      upstream: upstream.identity,
      // A protocol family that authenticates its clients itself (Bedrock's SigV4) decides the scope.
      scope: tenant.scope ?? identity.scope,
      target: identity.target,
      namespace: controls.controls.namespace,
      material: protocol.keyMaterial(request),
    };
  };
  const keyInput = plan.forwardOutcome === 'BYPASS' ? undefined : keyInputFor();
  const key = keyInput ? deriveCacheKey(keyInput) : '';
  noteRequest(res, { model: request.model, namespace: controls.controls.namespace, key: key || undefined });
  // The semantic partition is derived from exactly what the key was derived from.
  const semantic = keyInput
    ? ctx.semantic.prepare({ protocol, request, keyInput, controls: controls.controls })
    : undefined;
  return {
    protocol,
    request,
    controls: controls.controls,
    plan,
    key,
    rawBody,
    clientHeaders: req.headers,
    requestId,
    requestPath: route?.rawPath ?? protocol.path,
    search,
    stale: false,
    semantic,
  };
}

/** After an exact miss: serve a semantic hit (true), or note a shadow match for the forward headers. */
async function semanticAnswer(
  ctx: GatewayContext,
  call: CachedCall,
  res: ServerResponse,
  arrivedAt: number,
): Promise<boolean> {
  const { protocol, request, controls } = call;
  if (!call.semantic) return false;
  const outcome = await ctx.semantic.lookup(
    call.semantic,
    (key) => ctx.store.get(key),
    (entry) => checkHit(entry, request, controls.maxAgeSeconds),
  );
  if (outcome.kind === 'shadow') call.shadowSimilarity = outcome.similarity;
  if (outcome.kind !== 'hit') return false;
  const { entry } = outcome;
  ctx.metrics.cacheLookups.inc({ layer: 'semantic', result: 'hit' });
  ctx.metrics.lookupOutcomes.inc({ outcome: 'SEMANTIC-HIT' });
  // Savings (tokens, money, time) count once delivered, through the one recorder, as for an exact hit.
  res.once('finish', () =>
    ctx.stats.record({
      type: 'hit',
      key: outcome.key,
      entry,
      requestModel: request.model,
      replayMs: performance.now() - arrivedAt,
    }),
  );
  // x-sluice-key names the entry that answered, so an operator can inspect or purge it.
  const headers = {
    'x-request-id': call.requestId,
    ...semanticHitHeaders(outcome.similarity, outcome.ageSeconds),
    ...keyHeader(outcome.key),
  };
  const plan = planReplay(protocol, entry, request, controls.replay ?? ctx.config.cache.replay);
  countResponse(ctx, protocol, res, 'SEMANTIC-HIT');
  sendReplay(res, plan, headers, (n) => ctx.metrics.bytesStreamed.inc({ source: 'cache' }, n));
  return true;
}

/** Join an identical request already in flight. Returns false when there is none to join. */
function joinFlight(ctx: GatewayContext, call: CachedCall, res: ServerResponse): boolean {
  const flight = ctx.flights.joinable(call.key);
  if (!flight) return false;
  const leader = ctx.leaders.get(flight);
  if (!leader) return false;
  // A stream follower that did not ask for the usage Sluice asked for takes the live bytes, stripped.
  const stripper = stripperFor(call.protocol, leader, call.request, ctx.config.cache.maxEntryBytes);
  const listener = new ClientResponse(res, Boolean(stripper) || sameFraming(leader, call.request), {
    protocol: call.protocol,
    request: call.request,
    pacing: 'instant',
    flushIntervalMs: ctx.config.flushIntervalMs,
    stripper,
    headers: { 'x-request-id': call.requestId, ...COALESCED_HEADERS, ...keyHeader(call.key) },
    onBytes: (n) => ctx.metrics.bytesStreamed.inc({ source: 'upstream' }, n),
    // A follower whose needs the shared answer cannot meet (e.g. usage the leader did not ask
    // for) gets an upstream call of its own instead of a wrong answer.
    onUnserved: () => forward(ctx, { ...call, plan: { ...call.plan, coalesce: false } }, res),
  });
  ctx.metrics.cacheLookups.inc({ layer: 'none', result: 'coalesced' });
  countResponse(ctx, call.protocol, res, 'COALESCED');
  flight.attach(listener);
  res.once('close', () => flight.detach(listener));
  return true;
}

/** Go upstream: one flight, recorded, judged at the end and stored when the plan allows. */
function forward(ctx: GatewayContext, call: CachedCall, res: ServerResponse): void {
  const { protocol, request, plan, key, controls } = call;
  const { config, metrics, logger } = ctx;
  const ttlSeconds = Math.min(controls.ttlSeconds ?? config.cache.ttlSeconds, config.cache.maxTtlSeconds);
  const meta = { ttlMs: ttlSeconds * 1000, namespace: controls.namespace, tags: controls.tags };
  // What goes upstream, judged and recorded; the client may have asked for less (requestStreamUsage).
  const sent = withStreamUsage(protocol, request, config.cache.requestStreamUsage && plan.write);
  const flight = new Flight({
    maxEntryBytes: config.cache.maxEntryBytes,
    maxListeners: config.cache.maxFollowers + 1,
    completeOnDisconnect: config.cache.completeOnDisconnect && plan.write,
    // Nothing to store and nobody to share with: pass the bytes through without recording them.
    judge:
      plan.write || plan.coalesce
        ? (head, recorder, upstreamMs) => judgeAnswer(protocol, sent, head, recorder, { ...meta, upstreamMs })
        : undefined,
  });
  if (plan.coalesce) {
    ctx.flights.register(key, flight);
    ctx.leaders.set(flight, sent);
  }
  flight.onSettled((outcome) => {
    const release = () => ctx.flights.release(key, flight);
    if (outcome.kind === 'ended' && outcome.verdict.storable && plan.write) {
      const entry = outcome.verdict.entry;
      const write = ctx.store.set(key, entry);
      ctx.lifecycle.trackWrite(write);
      write.then(
        (stored) => {
          metrics.cacheWrites.inc({ result: stored ? 'stored' : 'skipped_by_store' });
          // A store says no to an entry past its own size bound or already expired.
          ctx.stats.record(
            stored ? { type: 'write', stored: true } : { type: 'write', stored: false, reason: 'refused_by_store' },
          );
          release();
          // Only what the exact cache stored becomes a semantic candidate.
          if (stored && call.semantic) void ctx.semantic.record(call.semantic, key, entry);
        },
        () => {
          ctx.stats.record({ type: 'write', stored: false, reason: 'store_error' });
          release();
        },
      );
      return;
    }
    release();
    const reason =
      outcome.kind === 'failed'
        ? outcome.failure.code
        : outcome.verdict.storable
          ? 'not_writable'
          : outcome.verdict.reason;
    metrics.cacheWrites.inc({ result: `skipped:${reason.split(':')[0]}` });
    // The dashboard's "not stored" counts answers that were meant to be stored (not BYPASS, not read-only).
    if (plan.write) ctx.stats.record({ type: 'write', stored: false, reason: reason.split(':')[0] ?? reason });
    if (outcome.kind === 'ended' && !outcome.verdict.storable && outcome.head.status === 200) {
      logger.warn({ requestId: call.requestId, route: protocol.path, reason }, 'answer not stored');
    }
  });

  const outcomeLabel = plan.forwardOutcome;
  const listener = new ClientResponse(res, true, {
    protocol,
    request,
    pacing: 'instant',
    flushIntervalMs: config.flushIntervalMs,
    headers: {
      'x-request-id': call.requestId,
      ...forwardHeaders(outcomeLabel, call.stale),
      ...keyHeader(call.key),
      ...shadowHeaders(call.shadowSimilarity),
    },
    onBytes: (n) => metrics.bytesStreamed.inc({ source: 'upstream' }, n),
    stripper: stripperFor(protocol, sent, request, config.cache.maxEntryBytes),
  });
  countResponse(ctx, protocol, res, outcomeLabel);
  flight.attach(listener);
  res.once('close', () => flight.detach(listener));

  const upstream = ctx.upstreams[protocol.family];
  const upstreamHeaders = upstreamRequestHeaders(call.clientHeaders);
  upstreamHeaders['x-request-id'] = call.requestId;
  applyUpstreamCredential(upstreamHeaders, upstream);
  void driveFlight(
    flight,
    ctx.agent,
    {
      upstream,
      method: 'POST',
      path: upstreamPath(upstream, call.requestPath, call.search),
      headers: upstreamHeaders,
      body: sent === request ? call.rawBody : Buffer.from(JSON.stringify(sent.body)),
    },
    config.limits,
    {
      onHeaders: (s) => metrics.upstreamTtfb.observe({ route: protocol.path }, s),
      onEnd: (s) => metrics.upstreamDuration.observe({ route: protocol.path }, s),
      onFailure: (failure) => {
        metrics.abortedStreams.inc({ reason: failure.code });
        if (failure.code !== 'client_disconnect') {
          logger.warn(
            { requestId: call.requestId, route: protocol.path, code: failure.code },
            failure.message,
          );
        }
      },
    },
  );
}

const responseLabels = new WeakMap<
  ServerResponse,
  { route: string; cache: string; status: number | undefined }
>();

/** Count the response once, when it finishes, with the last outcome assigned to it. */
function countResponse(
  ctx: GatewayContext,
  protocol: Protocol,
  res: ServerResponse,
  cache: string,
  status?: number,
): void {
  const known = responseLabels.has(res);
  responseLabels.set(res, { route: protocol.path, cache, status });
  noteRequest(res, { route: protocol.path, cache });
  if (known) return;
  res.once('finish', () => {
    const label = responseLabels.get(res);
    if (!label) return;
    const status = label.status ?? res.statusCode;
    ctx.metrics.requests.inc({ route: label.route, status: String(status), cache: label.cache });
    ctx.stats.record({ type: 'response', outcome: responseOutcome(label.cache, status) });
  });
}
