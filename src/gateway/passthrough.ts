import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { GatewayContext } from './context.js';
import type { Exchange } from './exchange.js';
import { downstreamResponseHeaders, sendError, upstreamRequestHeaders } from './http.js';
import { applyUpstreamCredential, type Upstream, upstreamPath, upstreamSearch } from './upstream.js';

/**
 * Any other /v1/* request: streamed to the upstream and back, never cached. Anthropic-only
 * paths (/v1/messages/...) and requests carrying `anthropic-version` go to the Anthropic upstream.
 * A caller that knows the upstream (Gemini's /v1beta/*, a named upstream) names it in `target`.
 */
export async function handlePassthrough(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  path: string,
  search: string,
  target?: Upstream,
): Promise<void> {
  const { requestId } = exchange;
  const toAnthropic = path.startsWith('/v1/messages/') || req.headers['anthropic-version'] !== undefined;
  const upstream: Upstream = target ?? (toAnthropic ? ctx.upstreams.anthropic : ctx.upstreams.openai);
  const headers = upstreamRequestHeaders(req.headers);
  headers['x-request-id'] = requestId;
  if (exchange.traceHeaders) Object.assign(headers, exchange.traceHeaders);
  applyUpstreamCredential(headers, upstream, ctx.credentialSources);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let response: Dispatcher.ResponseData;
  try {
    response = await (upstream.agent ?? ctx.agent).request({
      origin: upstream.origin,
      path: upstreamPath(upstream, path, upstreamSearch(upstream, search, ctx.credentialSources)),
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: hasBody ? req : null,
      signal: exchange.signal,
    });
  } catch (err) {
    if (exchange.left) return;
    ctx.logger.warn({ requestId, path, err: (err as Error).message }, 'pass-through upstream call failed');
    sendError(
      res,
      upstream.family,
      502,
      `could not reach the upstream: ${(err as Error).message}`,
      'upstream_unreachable',
      {
        'x-request-id': requestId,
      },
    );
    return;
  }
  const { record } = exchange;
  record.routed('passthrough');
  record.answered('BYPASS');
  const answerHeaders = downstreamResponseHeaders(response.headers);
  answerHeaders['x-request-id'] = requestId;
  answerHeaders['x-sluice-cache'] = 'BYPASS';
  answerHeaders['cache-status'] = 'sluice; fwd=bypass';
  res.writeHead(response.statusCode, answerHeaders);
  response.body.on('data', (chunk: Buffer) => record.sent(chunk.length, 'upstream'));
  // pipeline gives backpressure (a client that reads slowly, such as a large file download, holds
  // the upstream back instead of the gateway buffering the body for it), ends the response with
  // the body, and destroys both on an upstream error or a client that leaves.
  pipeline(response.body, res, () => undefined);
}
