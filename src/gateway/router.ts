import type { IncomingMessage, ServerResponse } from 'node:http';
import { BEDROCK_ROUTE_PREFIX, GEMINI_ROUTE_PREFIXES, matchRoute } from '../protocols/index.js';
import type { ProtocolFamily } from '../protocols/types.js';
import { handleAdmin } from './admin.js';
import type { GatewayContext } from './context.js';
import { handleDashboard } from './dashboard/routes.js';
import type { Exchange } from './exchange.js';
import { requestTarget, sendError, sendJson } from './http.js';
import { handleNamedUpstream, namedTarget } from './named-upstreams.js';
import { handlePassthrough } from './passthrough.js';
import { handleProtocolRoute } from './protocol-route.js';

/**
 * Which handler takes a request, by its path and method: health, metrics, dashboard, admin, a
 * named upstream's routes, the protocol routes, the pass-through, or a 404 in the shape of the
 * protocol the path belongs to.
 */

/** The error shape for a path, before any handler saw the request (431, 408). */
export function familyForPath(path: string): ProtocolFamily {
  if (path.startsWith(BEDROCK_ROUTE_PREFIX)) return 'bedrock';
  if (isGeminiPath(path)) return 'gemini';
  return matchRoute(path, {})?.protocol.family ?? (path.startsWith('/v1/messages') ? 'anthropic' : 'openai');
}

/** Gemini's API versions other than v1 (whose /v1/ prefix is OpenAI's); v1 Gemini routes still match by their `:operation`. */
function isGeminiPath(path: string): boolean {
  return GEMINI_ROUTE_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** The path of a request, as the client encoded it, without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export async function route(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  /** The path as the client encoded it (pathOf), which templated routes match. */
  rawPath: string,
): Promise<void> {
  const { requestId } = exchange;
  const target = requestTarget(req.url ?? '/');
  if (!target) {
    sendError(res, 'openai', 400, 'the request target is not a valid URL path', 'invalid_request_target', {
      'x-request-id': requestId,
    });
    return;
  }
  const { path, search } = target;

  // HTTP/2 has no connection header (a GOAWAY ends its sessions at the end of the drain).
  const closeConnection = req.httpVersionMajor < 2 ? { connection: 'close' } : {};
  if (path === '/healthz' && req.method === 'GET') {
    if (ctx.lifecycle.draining) sendJson(res, 503, { status: 'draining' }, closeConnection);
    else sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (ctx.lifecycle.draining) {
    sendError(res, namedTarget(path, ctx.namedUpstreams)?.upstream.family ?? familyForPath(path), 503, 'Sluice is shutting down: retry on another instance', 'draining', {
      ...closeConnection,
      'retry-after': '1',
      'x-request-id': requestId,
    });
    return;
  }
  if (path === '/metrics' && req.method === 'GET') {
    const l1 = ctx.l1.stats();
    ctx.metrics.cacheEntries.set(l1.entries);
    ctx.metrics.cacheBytes.set(l1.bytes);
    ctx.metrics.cacheDerivedBytes.set(ctx.engine.derived.bytes);
    ctx.metrics.semanticRows.set(ctx.semantic.stats().rows);
    const body = await ctx.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
    res.end(body);
    return;
  }
  if (path === '/dashboard' || path.startsWith('/dashboard/')) {
    await handleDashboard(ctx, req, res, path);
    return;
  }
  if (path.startsWith('/admin/')) {
    await handleAdmin(ctx, req, res, path);
    return;
  }
  // A named upstream's routes, under /{name}/ (config `upstreams:`).
  const named = namedTarget(path, ctx.namedUpstreams);
  if (named) {
    await handleNamedUpstream(ctx, req, res, exchange, named, rawPath, path, search);
    return;
  }
  // Templated routes match the path as the client encoded it (model ids are percent-encoded).
  const match = matchRoute(rawPath, req.headers);
  const protocol = match?.protocol;
  if (match && req.method === 'POST') {
    await handleProtocolRoute({ ctx, protocol: match.protocol, req, res, exchange, search, route: match.route });
    return;
  }
  if (protocol) {
    sendError(res, protocol.family, 405, `${path} accepts POST only`, 'method_not_allowed', {
      allow: 'POST',
    });
    return;
  }
  if (path.startsWith('/v1/')) {
    await handlePassthrough(ctx, req, res, exchange, path, search);
    return;
  }
  // The rest of Gemini's API (model listing, files, cached contents): passed through uncached.
  if (isGeminiPath(path)) {
    await handlePassthrough(ctx, req, res, exchange, path, search, ctx.upstreams.gemini);
    return;
  }
  if (path.startsWith(BEDROCK_ROUTE_PREFIX)) {
    sendError(
      res,
      'bedrock',
      404,
      `no Bedrock operation ${req.method} ${path}: Sluice serves POST /model/{modelId}/converse, /converse-stream, /invoke and /invoke-with-response-stream`,
      'not_found',
      { 'x-request-id': requestId },
    );
    return;
  }
  sendError(res, 'openai', 404, `no route ${req.method} ${path}`, 'not_found');
}
