import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EntryMeta, entryMeta } from '../cache/entry.js';
import { IncompletePurgeError, type PurgeFilter, StoreError } from '../cache/store.js';
import { errorBody } from '../protocols/error-body.js';
import { withTimeout } from '../cache/fail-open-store.js';
import { adminTokenOr404 } from './admin-token.js';
import type { FleetView } from './fleet-stats.js';
import type { GatewayContext } from './context.js';
import { dashboardStats } from './dashboard/stats-view.js';
import { CSRF_HEADER, csrfValid, isStateChanging, requestSession } from './dashboard/session.js';
import { BodyTooLargeError, discardRestOfBody, readBody, sendError, sendJson } from './http.js';
import { upstreamTag } from './named-upstreams.js';

const ADMIN_BODY_LIMIT = 64 * 1024;

/** /admin/*: stats, inspect and purge, behind the bearer token SLUICE_ADMIN_TOKEN or a dashboard session. */
export async function handleAdmin(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const token = adminTokenOr404(ctx, req, res, 'the admin API');
  if (!token) return;
  const method = req.method ?? 'GET';
  const bearer = authorized(req.headers.authorization, token);
  const session = bearer ? undefined : requestSession(req, ctx.sessions);
  if (!bearer && !session) {
    sendError(res, 'openai', 401, 'missing or wrong admin bearer token', 'admin_unauthorized', {
      'www-authenticate': 'Bearer realm="sluice-admin"',
    });
    return;
  }
  // A cookie rides along with any request the browser makes, including one another site starts:
  // changes made with it need the token only the dashboard page knows (CSRF).
  if (session && isStateChanging(method) && !csrfValid(req, session)) {
    discardRestOfBody(req);
    sendError(
      res,
      'openai',
      403,
      `a state-changing admin call with the dashboard session needs the ${CSRF_HEADER} header of the page`,
      'csrf_required',
    );
    return;
  }
  if (method === 'GET' && path === '/admin/stats') {
    const dashboard = dashboardStats(ctx);
    sendJson(res, 200, { ...stats(ctx, dashboard.savings.tokens), ...dashboard, fleet: await fleetView(ctx) });
    return;
  }
  if (method === 'GET' && path === '/admin/entries') {
    await listEntries(ctx, req, res);
    return;
  }
  let entryKey: string | undefined;
  if (path.startsWith('/admin/entries/')) {
    try {
      entryKey = decodeURIComponent(path.slice('/admin/entries/'.length));
    } catch {
      sendError(res, 'openai', 400, 'the entry key in the path has a bad % escape', 'invalid_path');
      return;
    }
  }
  if (entryKey && method === 'GET') {
    const entry = await ctx.store.get(entryKey);
    if (!entry) sendError(res, 'openai', 404, `no entry with key ${entryKey}`, 'entry_not_found');
    else sendJson(res, 200, describeEntry(entryKey, entryMeta(entry)));
    return;
  }
  if (entryKey && method === 'DELETE') {
    await purge(ctx, res, { key: entryKey });
    return;
  }
  if (method === 'POST' && path === '/admin/purge') {
    let filter: PurgeFilter | undefined;
    try {
      filter = parsePurgeFilter(JSON.parse((await readBody(req, ADMIN_BODY_LIMIT)).toString('utf8')));
    } catch (err) {
      const status = err instanceof BodyTooLargeError ? 413 : 400;
      if (status === 413) discardRestOfBody(req);
      sendError(
        res,
        'openai',
        status,
        `the purge body must be JSON: ${(err as Error).message}`,
        'invalid_purge',
      );
      return;
    }
    if (!filter) {
      sendError(
        res,
        'openai',
        400,
        'purge needs exactly one of {"key"}, {"namespace"}, {"tag"}, {"upstream"} or {"all": true}',
        'invalid_purge',
      );
      return;
    }
    await purge(ctx, res, filter);
    return;
  }
  sendError(res, 'openai', 404, `no admin route ${method} ${path}`, 'not_found');
}

async function purge(ctx: GatewayContext, res: ServerResponse, filter: PurgeFilter): Promise<void> {
  try {
    const purged = await ctx.store.purge(filter);
    // Candidates pointing at purged entries go too, here and (through Redis) on every replica.
    await ctx.semantic.purge(filter);
    ctx.logger.info({ filter, purged }, 'cache purge');
    sendJson(res, 200, { purged });
  } catch (err) {
    if (err instanceof IncompletePurgeError) {
      // Part of it is done: say so, and how much, in the admin API's error shape.
      await ctx.semantic.purge(filter).catch(() => undefined);
      const status = err.timedOut ? 504 : 503;
      const message = err.timedOut
        ? `purge stopped at its time limit (${ctx.config.adminTimeoutSeconds} s, --admin-timeout) after removing ${err.removed} entries; run it again to remove the rest`
        : `purge failed in a cache store after removing ${err.removed} entries: ${err.message}`;
      ctx.logger.warn({ filter, purged: err.removed, status }, 'cache purge incomplete');
      sendJson(res, status, { ...errorBody('openai', status, message, 'purge_incomplete'), purged: err.removed }, {
        'x-sluice-error': 'purge_incomplete',
      });
      return;
    }
    sendError(res, 'openai', 503, `purge failed in a cache store: ${(err as Error).message}`, 'purge_failed');
  }
}

function parsePurgeFilter(body: unknown): PurgeFilter | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = Object.entries(body as Record<string, unknown>);
  if (fields.length !== 1) return undefined;
  const [name, value] = fields[0] as [string, unknown];
  if (name === 'all') return value === true ? { all: true } : undefined;
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (name === 'key') return { key: value };
  if (name === 'namespace') return { namespace: value };
  if (name === 'tag') return { tag: value };
  // Entries written through a named upstream carry its tag (named-upstreams.ts).
  if (name === 'upstream') return { tag: upstreamTag(value) };
  return undefined;
}

function authorized(header: string | undefined, token: string): boolean {
  // Auth schemes are case-insensitive (RFC 9110 section 11.1): `bearer` is as good as `Bearer`.
  const match = header === undefined ? null : /^bearer +(.+)$/i.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1] as string);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Metadata only: no body, so inspecting never leaks prompts or answers in bulk. */
function describeEntry(key: string, meta: EntryMeta) {
  return {
    key,
    format: meta.format,
    protocol: meta.protocol,
    contentType: meta.contentType,
    model: meta.model,
    namespace: meta.namespace,
    tags: meta.tags,
    createdAt: new Date(meta.createdAt).toISOString(),
    ttlSeconds: Math.round(meta.ttlMs / 1000),
    expiresInSeconds: Math.max(0, Math.round((meta.createdAt + meta.ttlMs - Date.now()) / 1000)),
    bodyBytes: meta.bodyBytes,
    events: meta.events,
    usage: meta.usage ?? null,
    upstreamMs: meta.upstreamMs ?? null,
  };
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/**
 * GET /admin/entries?namespace=&tag=&model=&limit=&cursor=: one page of entry metadata from the
 * shared tier when there is one. Follow `next` until it is null; a page may hold fewer than limit.
 */
async function listEntries(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const params = new URL(req.url ?? '/', 'http://sluice.local').searchParams;
  const known = new Set(['namespace', 'tag', 'model', 'limit', 'cursor']);
  const unknown = [...params.keys()].find((name) => !known.has(name));
  const bad = (message: string) => sendError(res, 'openai', 400, message, 'invalid_query');
  if (unknown !== undefined) {
    bad(`unknown query parameter "${unknown}" (use namespace, tag, model, limit, cursor)`);
    return;
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    bad(`limit must be a whole number from 1 to ${MAX_PAGE}, got "${limitText}"`);
    return;
  }
  const text = (name: string) => {
    const value = params.get(name);
    return value === null || value === '' ? undefined : value;
  };
  try {
    const page = await ctx.store.list({
      namespace: text('namespace'),
      tag: text('tag'),
      model: text('model'),
      limit,
      cursor: text('cursor'),
    });
    sendJson(res, 200, {
      store: ctx.store.listedStore,
      entries: page.entries.map(({ key, meta }) => describeEntry(key, meta)),
      next: page.cursor ?? null,
    });
  } catch (err) {
    if (err instanceof StoreError && err.code === 'STORE_BAD_CURSOR') {
      bad(err.message);
      return;
    }
    sendError(res, 'openai', 503, `listing failed in a cache store: ${(err as Error).message}`, 'list_failed');
  }
}

const FLEET_READ_MS = 2_000;

/** The fleet's figures with Redis; null without it; `{ unavailable }` when Redis did not answer in time. */
async function fleetView(ctx: GatewayContext): Promise<FleetView | { unavailable: string } | null> {
  const fleet = ctx.fleet;
  if (fleet === undefined) return null;
  try {
    return await withTimeout(() => fleet.view(), FLEET_READ_MS, 'fleet figures');
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
}

function stats(ctx: GatewayContext, savedTokens: { input: number; output: number }) {
  return {
    l1: ctx.l1.stats(),
    l2: ctx.l2 ? { state: ctx.l2.state, coherence: ctx.coherence?.state ?? null } : null,
    inFlight: ctx.flights.size,
    lookups: ctx.lookups.lookups,
    writes: { ...ctx.writes.writes },
    // The dashboard's figure (tokens of hits delivered), under the name this API always had.
    tokensSaved: { ...savedTokens },
    semantic: ctx.semantic.active
      ? {
          embedder: ctx.semantic.embedder.identity.type,
          threshold: ctx.semantic.threshold,
          shadow: ctx.semantic.config.shadow,
          index: ctx.semantic.stats(),
          lookups: { ...ctx.semanticCounts.lookups },
          shadowMatches: { total: ctx.semanticCounts.shadowMatches },
          embedderErrors: { ...ctx.semanticCounts.embedderErrors },
        }
      : null,
  };
}
