import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

const TOKEN = 'admin-token-0123456789';

/** Logs in like the form does; returns the cookie pair to send back and the raw Set-Cookie. */
async function login(url: string, token = TOKEN, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
  });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, setCookie, cookie: setCookie.split(';')[0] ?? '' };
}

/** The CSRF token the dashboard page carries for its own state-changing calls. */
async function pageCsrf(url: string, cookie: string): Promise<string> {
  const html = await (await fetch(`${url}/dashboard`, { headers: { cookie } })).text();
  const match = /<meta name="sluice-csrf" content="([^"]+)">/.exec(html);
  if (!match?.[1]) throw new Error('the dashboard page has no CSRF token');
  return match[1];
}

describe('dashboard without an admin token', () => {
  it('answers 404 like /admin, for the page and the login', async () => {
    const h = await startHarness();
    try {
      const page = await fetch(`${h.url}/dashboard`);
      expect(page.status).toBe(404);
      expect(((await page.json()) as { error: { code: string } }).error.code).toBe('admin_disabled');
      expect((await login(h.url)).res.status).toBe(404);
      expect((await fetch(`${h.url}/admin/stats`)).status).toBe(404);
    } finally {
      await h.close();
    }
  });
});

describe('dashboard login and sessions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adminToken: TOKEN });
  });
  afterAll(async () => h.close());

  it('shows a login form that posts the token (never in a URL) to an unauthenticated visitor', async () => {
    const res = await fetch(`${h.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<form[^>]+method="post"[^>]+action="\/dashboard\/login"/);
    expect(html).toContain('type="password"');
    expect(html).not.toContain('sluice-csrf');
    // The page allows only its own nonce'd script and style, and nothing from elsewhere.
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'nonce-[^']+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    // A token in the query string is not a way in.
    expect((await fetch(`${h.url}/dashboard/login?token=${TOKEN}`)).status).toBe(404);
  });

  it('refuses a wrong token with 401 and no cookie', async () => {
    const { res, setCookie } = await login(h.url, 'wrong-token-0123456789');
    expect(res.status).toBe(401);
    expect(setCookie).toBe('');
    expect(await res.text()).toContain('Wrong admin token');
    expect((await login(h.url, '')).res.status).toBe(401);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie with a bounded lifetime on the right token', async () => {
    const { res, setCookie } = await login(h.url);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard');
    expect(setCookie).toMatch(/^sluice_session=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(24 * 3600);
    expect(setCookie).not.toContain(TOKEN);
    // Behind a TLS-terminating proxy the cookie is Secure as well.
    const tls = await login(h.url, TOKEN, { 'x-forwarded-proto': 'https' });
    expect(tls.setCookie).toMatch(/; Secure/);
  });

  it('refuses a login posted from another origin', async () => {
    const { res, setCookie } = await login(h.url, TOKEN, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(setCookie).toBe('');
  });

  it('lets the session cookie read the admin API, and the page, instead of the bearer token', async () => {
    const { cookie } = await login(h.url);
    const stats = await fetch(`${h.url}/admin/stats`, { headers: { cookie } });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toHaveProperty('requests.byOutcome');
    const page = await (await fetch(`${h.url}/dashboard`, { headers: { cookie } })).text();
    expect(page).toContain('id="chart-minute"');
    expect((await fetch(`${h.url}/admin/stats`, { headers: { cookie: 'sluice_session=forged' } })).status).toBe(401);
  });

  it('needs the page CSRF header for state-changing admin calls made with the cookie, not with the bearer', async () => {
    const { cookie } = await login(h.url);
    const purge = (headers: Record<string, string>) =>
      fetch(`${h.url}/admin/purge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ all: true }),
      });
    const noHeader = await purge({ cookie });
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as { error: { code: string } }).error.code).toBe('csrf_required');
    expect((await purge({ cookie, 'x-sluice-csrf': 'guessed' })).status).toBe(403);
    const csrf = await pageCsrf(h.url, cookie);
    expect((await purge({ cookie, 'x-sluice-csrf': csrf })).status).toBe(200);
    // Another session's CSRF token does not fit this session.
    const other = await login(h.url);
    expect((await purge({ cookie: other.cookie, 'x-sluice-csrf': csrf })).status).toBe(403);
    expect((await purge({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('logs out: the session stops working and the cookie is cleared', async () => {
    const { cookie } = await login(h.url);
    const csrf = await pageCsrf(h.url, cookie);
    expect((await fetch(`${h.url}/dashboard/logout`, { method: 'POST', headers: { cookie } })).status).toBe(403);
    expect((await fetch(`${h.url}/admin/stats`, { headers: { cookie } })).status).toBe(200);
    const out = await fetch(`${h.url}/dashboard/logout`, {
      method: 'POST',
      headers: { cookie, 'x-sluice-csrf': csrf },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^sluice_session=; .*Max-Age=0/);
    expect((await fetch(`${h.url}/admin/stats`, { headers: { cookie } })).status).toBe(401);
    expect(await (await fetch(`${h.url}/dashboard`, { headers: { cookie } })).text()).toContain('type="password"');
  });
});

describe('session store', () => {
  it('expires a session at its lifetime however active, and keeps only a bounded number', async () => {
    const { SessionStore } = await import('../../src/gateway/dashboard/session.js');
    let now = 1_000_000;
    const sessions = new SessionStore({ ttlMs: 60_000, now: () => now });
    const { id, session } = sessions.create();
    expect(sessions.get(id)).toBe(session);
    now += 59_999;
    expect(sessions.get(id)).toBe(session);
    now += 1;
    expect(sessions.get(id)).toBeUndefined();
    const first = sessions.create().id;
    for (let i = 0; i < 1000; i++) sessions.create();
    expect(sessions.get(first)).toBeUndefined();
  });
});

describe('the session cookie and the upstream', () => {
  it('is never forwarded to the provider, while other cookies are', async () => {
    const h = await startHarness({ adminToken: TOKEN });
    try {
      const { cookie } = await login(h.url);
      await h.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'c' }] }, {
        cookie: `${cookie}; theme=dark`,
        'cache-control': 'no-store',
      });
      expect(h.mock.stats.lastRequest?.headers.cookie).toBe('theme=dark');
      await h.post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'c' }] }, {
        cookie,
        'cache-control': 'no-store',
      });
      expect(h.mock.stats.lastRequest?.headers.cookie).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});

describe('login attempts', () => {
  it('answers 429 after 20 wrong tokens in a minute, even to the right one, so guessing stays hopeless', async () => {
    const h = await startHarness({ adminToken: TOKEN });
    try {
      for (let i = 0; i < 20; i++) expect((await login(h.url, `guess-${i}-0123456789`)).res.status).toBe(401);
      expect((await login(h.url, 'guess-21-0123456789')).res.status).toBe(429);
      const blocked = await login(h.url);
      expect(blocked.res.status).toBe(429);
      expect(blocked.setCookie).toBe('');
      // The bearer token is not throttled: an operator's scripts keep working.
      expect((await fetch(`${h.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
