import type { IncomingMessage, ServerResponse } from 'node:http';
import { BEDROCK_ROUTE_PREFIX, matchRoute } from '../protocols/index.js';
import type { SluiceConfig } from '../config.js';
import type { GatewayContext } from './context.js';
import type { Exchange } from './exchange.js';
import { sendError } from './http.js';
import { handlePassthrough } from './passthrough.js';
import { handleProtocolRoute } from './protocol-route.js';
import { createUpstreamAgent, makeUpstream, type Upstream } from './upstream.js';

/**
 * Named upstreams (config `upstreams:`, src/upstreams-config.ts): each served under `/{name}/`,
 * with the routes of its protocol family below that prefix, exactly as at the root. Each has what
 * is per upstream: its identity in every key (the name and the base URL, so two upstreams never
 * share an entry), its own key, its own connection pool and call limits, a tag on every entry it
 * writes (`upstream:{name}`, so an operator can purge it), and its own label in the request counts.
 */

/** The tag every entry written through a named upstream carries (purge by upstream uses it). */
export function upstreamTag(name: string): string {
  return `upstream:${name}`;
}

export function createNamedUpstreams(
  config: SluiceConfig,
  bedrockSigner: Upstream['sign'],
): ReadonlyMap<string, Upstream> {
  const named = new Map<string, Upstream>();
  for (const [name, spec] of Object.entries(config.upstreams)) {
    const upstream = makeUpstream(spec.protocol, spec.url, spec.apiKey, spec.protocol === 'bedrock' ? bedrockSigner : undefined);
    const limits = {
      ...config.limits,
      ...spec.limits,
      maxUpstreamConnections: spec.maxConnections ?? config.limits.maxUpstreamConnections,
    };
    named.set(name, {
      ...upstream,
      // The name is key material too: two names on one URL (two accounts, two keys) never share.
      identity: `${name}@${upstream.identity}`,
      name,
      tag: upstreamTag(name),
      limits,
      agent: createUpstreamAgent(limits),
    });
  }
  return named;
}

/** The named upstream a path starts with (`/groq/...`), and the rest of the path after its name. */
export function namedTarget(
  path: string,
  upstreams: ReadonlyMap<string, Upstream>,
): { upstream: Upstream; prefix: string } | undefined {
  if (upstreams.size === 0) return undefined;
  const end = path.indexOf('/', 1);
  if (end === -1) return undefined;
  const upstream = upstreams.get(path.slice(1, end));
  return upstream && { upstream, prefix: path.slice(0, end) };
}

/**
 * A request under a named upstream: its family's protocol routes (cached), anything else under
 * the prefix passed through uncached (Bedrock: a 404, as at the root, since only its routes are signed).
 */
export async function handleNamedUpstream(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  target: { upstream: Upstream; prefix: string },
  rawPath: string,
  path: string,
  search: string,
): Promise<void> {
  const { upstream, prefix } = target;
  const rest = path.slice(prefix.length);
  const match = matchRoute(rawPath.slice(prefix.length), req.headers);
  const idHeader = { 'x-request-id': exchange.requestId };
  if (match && match.protocol.family !== upstream.family) {
    sendError(
      res,
      upstream.family,
      404,
      `the ${upstream.name ?? ''} upstream speaks the ${upstream.family} protocol: ${rest} is not one of its routes`,
      'not_found',
      idHeader,
    );
    return;
  }
  if (match) {
    if (req.method !== 'POST') {
      sendError(res, upstream.family, 405, `${path} accepts POST only`, 'method_not_allowed', { allow: 'POST', ...idHeader });
      return;
    }
    await handleProtocolRoute({ ctx, protocol: match.protocol, req, res, exchange, search, route: match.route, upstream, prefix });
    return;
  }
  if (upstream.family === 'bedrock' || rest.startsWith(BEDROCK_ROUTE_PREFIX)) {
    sendError(res, upstream.family, 404, `no route ${req.method} ${path}`, 'not_found', idHeader);
    return;
  }
  await handlePassthrough(ctx, req, res, exchange, rest, search, upstream);
}

/** Close the pools of the named upstreams. */
export async function closeNamedUpstreams(upstreams: ReadonlyMap<string, Upstream>): Promise<void> {
  await Promise.all([...upstreams.values()].map((u) => u.agent?.close()));
}
