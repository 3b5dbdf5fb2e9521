import type { IncomingMessage } from 'node:http';
import type { Protocol, RouteParams } from '../protocols/types.js';
import { authenticateBedrockClient } from './bedrock-auth.js';
import type { GatewayContext } from './context.js';

export type TenantCheck =
  /** `scope` absent: the credential sources decide it (cache/scope.ts). */
  { ok: true; scope?: string } | { ok: false; status: 403; code: string; message: string };

/**
 * For protocol families whose clients Sluice authenticates itself: the tenant scope of the cache
 * key (DESIGN.md section 3, rule 4), or the refusal of a client whose credentials are wrong.
 * Bedrock's SigV4 access key id is public, so the configured credential sources cannot scope it;
 * its check needs the raw body, hence a promise. Other families: the credential sources decide,
 * answered synchronously (every other request, a cache hit included, would otherwise pay a tick).
 */
export function tenantScope(
  ctx: GatewayContext,
  protocol: Protocol,
  req: IncomingMessage,
  route: RouteParams | undefined,
  rawBody: Buffer,
  search: string,
): TenantCheck | Promise<TenantCheck> {
  const shared = ctx.config.cache.shareAcrossCredentials;
  if (protocol.family === 'bedrock') {
    return authenticateBedrockClient(ctx.config, {
      method: req.method ?? 'POST',
      rawPath: route?.rawPath ?? protocol.path,
      search,
      headers: req.headers,
      body: rawBody,
    }).then((check): TenantCheck => (check.ok && shared ? { ok: true, scope: 'shared' } : check));
  }
  return OPEN;
}

const OPEN: TenantCheck = { ok: true };
