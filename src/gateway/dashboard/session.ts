import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie the dashboard login sets; the admin API accepts it as well as the bearer token. */
export const SESSION_COOKIE = 'sluice_session';
/** Cookie-authenticated state-changing admin calls must carry this header with the session's CSRF token. */
export const CSRF_HEADER = 'x-sluice-csrf';
/** A session lasts this long from login, however active: a stolen cookie is not good forever. */
export const SESSION_TTL_MS = 8 * 3_600_000;
const MAX_SESSIONS = 1000;

export interface Session {
  /** Sent in the page (never in a cookie or URL) and echoed in CSRF_HEADER by the page's own calls. */
  csrf: string;
  expiresAt: number;
}

/**
 * Dashboard sessions, in memory: a restart logs everyone out, which is fine for an operator page.
 * Only a hash of each session id is kept, so the map holds nothing a memory dump could replay.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  get ttlSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  /** A new session; returns its id (for the cookie) and the session. */
  create(): { id: string; session: Session } {
    this.#sweep();
    // Bounded: the oldest session goes first (Map keeps insertion order).
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const session = { csrf: randomBytes(24).toString('base64url'), expiresAt: this.#now() + this.#ttlMs };
    this.#sessions.set(hashId(id), session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = hashId(id);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(hashId(id));
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
  }
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The session a request's cookie names, if it is live. */
export function requestSession(req: IncomingMessage, sessions: SessionStore): Session | undefined {
  return sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
}

/** Secure only behind TLS (a proxy saying so): on plain http a Secure cookie would never come back. */
function secureAttribute(req: IncomingMessage): string {
  return req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
}

export function sessionCookie(req: IncomingMessage, id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secureAttribute(req)}`;
}

export function clearedSessionCookie(req: IncomingMessage): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secureAttribute(req)}`;
}

/** The page's own call: it echoes the session's CSRF token, which another site cannot read or send. */
export function csrfValid(req: IncomingMessage, session: Session): boolean {
  const given = req.headers[CSRF_HEADER];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A browser sends Origin on every POST; when present it must be this server. Absent (curl, old
 * clients) is allowed: a cross-site browser request always has one.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function isStateChanging(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/** Constant-time comparison of a submitted admin token with the configured one (hashed to one length first). */
export function tokenMatches(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
