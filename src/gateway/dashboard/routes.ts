import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminTokenOr404 } from '../admin-token.js';
import type { GatewayContext } from '../context.js';
import { BodyTooLargeError, discardRestOfBody, readBody, sendError } from '../http.js';
import { dashboardPage, loginPage } from './page.js';
import {
  clearedSessionCookie,
  csrfValid,
  readCookie,
  requestSession,
  SESSION_COOKIE,
  sameOrigin,
  sessionCookie,
  tokenMatches,
} from './session.js';

const LOGIN_BODY_LIMIT = 4096;
/** Wrong tokens accepted per minute before logins answer 429: guessing a 16+ character token stays hopeless. */
const MAX_FAILED_LOGINS_PER_MINUTE = 20;

/** Times of the last wrong tokens, per gateway: a sliding minute, at most MAX_FAILED_LOGINS_PER_MINUTE long. */
const failedLogins = new WeakMap<GatewayContext, number[]>();

/** GET /dashboard (the page or the login form), POST /dashboard/login, POST /dashboard/logout. */
export async function handleDashboard(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const token = adminTokenOr404(ctx, req, res, 'the dashboard');
  if (!token) return;
  const method = req.method ?? 'GET';
  if (path === '/dashboard' && (method === 'GET' || method === 'HEAD')) {
    const session = requestSession(req, ctx.sessions);
    if (session) sendPage(res, 200, (nonce) => dashboardPage({ nonce, csrf: session.csrf }));
    else sendPage(res, 200, (nonce) => loginPage({ nonce }));
    return;
  }
  if (path === '/dashboard/login' && method === 'POST') {
    await login(ctx, token, req, res);
    return;
  }
  if (path === '/dashboard/logout' && method === 'POST') {
    discardRestOfBody(req);
    const id = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = ctx.sessions.get(id);
    // Logging out is a change too: only the page itself may do it, not a form on another site.
    if (session && !csrfValid(req, session)) {
      sendError(res, 'openai', 403, 'logout needs the x-sluice-csrf header of the page', 'csrf_required');
      return;
    }
    ctx.sessions.delete(id);
    res.writeHead(204, { 'set-cookie': clearedSessionCookie(req), 'cache-control': 'no-store' });
    res.end();
    return;
  }
  discardRestOfBody(req);
  sendError(res, 'openai', 404, `no dashboard route ${method} ${path}`, 'not_found');
}

async function login(ctx: GatewayContext, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!sameOrigin(req)) {
    discardRestOfBody(req);
    sendError(res, 'openai', 403, 'the login form must be posted from this server', 'cross_origin');
    return;
  }
  const now = Date.now();
  let failures = failedLogins.get(ctx);
  if (!failures) failedLogins.set(ctx, (failures = []));
  while (failures.length > 0 && (failures[0] ?? 0) <= now - 60_000) failures.shift();
  if (failures.length >= MAX_FAILED_LOGINS_PER_MINUTE) {
    discardRestOfBody(req);
    sendPage(res, 429, (nonce) => loginPage({ nonce, error: 'Too many wrong tokens; wait a minute.' }));
    return;
  }
  let given: string | null;
  try {
    given = new URLSearchParams((await readBody(req, LOGIN_BODY_LIMIT)).toString('utf8')).get('token');
  } catch (err) {
    const status = err instanceof BodyTooLargeError ? 413 : 400;
    sendPage(res, status, (nonce) => loginPage({ nonce, error: 'The login request could not be read.' }));
    return;
  }
  if (given === null || !tokenMatches(given, token)) {
    failures.push(now);
    ctx.logger.warn({ remote: req.socket.remoteAddress }, 'dashboard login refused: wrong admin token');
    sendPage(res, 401, (nonce) => loginPage({ nonce, error: 'Wrong admin token.' }));
    return;
  }
  const { id } = ctx.sessions.create();
  // 303: the browser follows with a GET, so a reload does not post the token again.
  res.writeHead(303, {
    location: '/dashboard',
    'set-cookie': sessionCookie(req, id, ctx.sessions.ttlSeconds),
    'cache-control': 'no-store',
  });
  res.end();
}

/**
 * Every page carries a fresh nonce: only its own inline script and style run (no eval, no other
 * origin, no framing), so even a hostile model name in the figures cannot become script.
 */
function sendPage(res: ServerResponse, status: number, render: (nonce: string) => string): void {
  const nonce = randomBytes(16).toString('base64');
  const body = render(nonce);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'content-security-policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: with it a browser posts the login form with `Origin: null`, which sameOrigin refuses.
    'referrer-policy': 'same-origin',
  });
  res.end(body);
}
