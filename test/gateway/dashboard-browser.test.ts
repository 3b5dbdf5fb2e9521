import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { chatBody, eventually, type Harness, startHarness } from './harness.js';

const TOKEN = 'admin-token-0123456789';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-results');
const N_MISSES = 4;
const M_HITS = 7;
const K_SKIPPED = 3;

interface Stats {
  requests: { total: number; byOutcome: Record<string, number>; hitRatio: number };
  savings: { tokens: { input: number; output: number }; usd: number; timeSavedMs: number; usageUnknown: number };
  storeWrites: { stored: number; skipped: number; skippedByReason: Record<string, number> };
  stores: { l1: { entries: number; bytes: number } };
  top: { entries: Array<{ keyPrefix: string; hits: number }> };
}

describe('the dashboard in a real headless Chromium', () => {
  let h: Harness;
  let browser: Browser;
  const outside: string[] = [];

  const stats = async () =>
    (await (await fetch(`${h.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Stats;
  const figure = async (page: Page, name: string) => {
    const node = page.locator(`[data-figure="${name}"]`).first();
    return { value: await node.getAttribute('data-value'), text: (await node.textContent())?.trim() ?? '' };
  };

  beforeAll(async () => {
    if (!chromiumAvailable()) {
      throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run does)`);
    }
    h = await startHarness({ adminToken: TOKEN, prices: { 'gpt-4o-mini': { inputPerMTok: 150, outputPerMTok: 600 } } });
    // Known traffic: N misses (stored), M hits on them, K answers not stored.
    for (let i = 0; i < N_MISSES; i++) {
      const res = await h.post('/v1/chat/completions', chatBody(`known ${i}`), { 'x-mock-delay-ms': '5' });
      expect(res.headers.get('x-sluice-cache')).toBe('MISS');
      await res.text();
    }
    await eventually(async () => (await stats()).storeWrites.stored === N_MISSES);
    for (let i = 0; i < M_HITS; i++) {
      const res = await h.post('/v1/chat/completions', chatBody(`known ${i % N_MISSES}`));
      expect(res.headers.get('x-sluice-cache')).toBe('HIT');
      await res.text();
    }
    for (let i = 0; i < K_SKIPPED; i++) {
      const res = await h.post('/v1/chat/completions', chatBody(`refused ${i}`), { 'x-mock-status': '429' });
      expect(res.status).toBe(429);
      await res.text();
    }
    await eventually(async () => (await stats()).storeWrites.skipped === K_SKIPPED);
    browser = await launchChromium();
    // Self-contained: the page must not reach for anything but this gateway.
    browser.context.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(h.url) && !url.startsWith('data:')) outside.push(url);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('refuses a wrong token in the login form', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${h.url}/dashboard`);
    await page.fill('#token', 'not-the-admin-token-000');
    const [response] = await Promise.all([page.waitForResponse('**/dashboard/login'), page.click('button[type=submit]')]);
    expect(response.status()).toBe(401);
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('Wrong admin token');
    expect(await page.locator('#chart-minute').count()).toBe(0);
    expect(await browser.context.cookies(h.url)).toEqual([]);
    await page.close();
  });

  it('logs in through the form and shows the figures /admin/stats and the known traffic give', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${h.url}/dashboard`);
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-updated]');
    expect(page.url()).toBe(`${h.url}/dashboard`);

    const [cookie] = await browser.context.cookies(h.url);
    expect(cookie).toMatchObject({ name: 'sluice_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000);
    expect(cookie?.expires).toBeLessThanOrEqual(Date.now() / 1000 + 24 * 3600);
    // HttpOnly: the page's own script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');

    const s = await stats();
    expect(s.requests.byOutcome).toMatchObject({ MISS: N_MISSES, HIT: M_HITS, ERROR: K_SKIPPED });
    expect(s.storeWrites).toMatchObject({ stored: N_MISSES, skipped: K_SKIPPED, skippedByReason: { status_429: K_SKIPPED } });

    const ratio = await figure(page, 'hit-ratio');
    expect(Number(ratio.value)).toBeCloseTo(M_HITS / (M_HITS + N_MISSES), 12);
    expect(Number(ratio.value)).toBe(s.requests.hitRatio);
    expect(ratio.text).toBe(`${((100 * M_HITS) / (M_HITS + N_MISSES)).toFixed(1)}%`);
    expect(await figure(page, 'requests-total')).toEqual({
      value: String(N_MISSES + M_HITS + K_SKIPPED),
      text: String(N_MISSES + M_HITS + K_SKIPPED),
    });
    for (const [outcome, count] of [['HIT', M_HITS], ['MISS', N_MISSES], ['ERROR', K_SKIPPED], ['BYPASS', 0]] as const) {
      expect(await figure(page, `minute-${outcome}`), outcome).toEqual({ value: String(count), text: String(count) });
      expect(s.requests.byOutcome[outcome]).toBe(count);
    }
    expect((await figure(page, 'hits')).value).toBe(String(M_HITS));
    expect((await figure(page, 'writes-stored')).value).toBe(String(N_MISSES));
    expect((await figure(page, 'writes-skipped')).value).toBe(String(K_SKIPPED));
    expect(await figure(page, 'skip-status_429')).toEqual({ value: String(K_SKIPPED), text: String(K_SKIPPED) });

    expect(Number((await figure(page, 'tokens-input')).value)).toBe(s.savings.tokens.input);
    expect(Number((await figure(page, 'tokens-output')).value)).toBe(s.savings.tokens.output);
    expect(s.savings.tokens.output).toBeGreaterThan(0);
    const usd = await figure(page, 'usd-saved');
    expect(Number(usd.value)).toBeCloseTo(s.savings.usd, 12);
    expect(usd.text).toMatch(/^\$\d/);
    expect(s.savings.usd).toBeCloseTo((s.savings.tokens.input * 150 + s.savings.tokens.output * 600) / 1e6, 9);
    expect(Number((await figure(page, 'time-saved')).value)).toBeCloseTo(s.savings.timeSavedMs, 6);
    expect((await figure(page, 'usage-unknown')).value).toBe('0');

    expect(await figure(page, 'l1-entries')).toEqual({ value: String(N_MISSES), text: String(N_MISSES) });
    expect(Number((await figure(page, 'l1-bytes')).value)).toBe(s.stores.l1.bytes);
    expect((await figure(page, 'l2-state')).value).toBe('none');

    const rows = page.locator('tr[data-row="top-entries"]');
    expect(await rows.count()).toBe(N_MISSES);
    const firstRow = await rows.first().locator('td').allTextContents();
    expect(firstRow[0]).toBe(`${s.top.entries[0]?.keyPrefix}…`);
    expect(firstRow.at(-1)).toBe(String(s.top.entries[0]?.hits));
    expect(await page.locator('#chart-minute svg rect[fill]').count()).toBeGreaterThan(0);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refreshes on its own, and logs out', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${h.url}/dashboard`);
    await page.waitForSelector('body[data-updated]');
    const before = Number((await figure(page, 'requests-total')).value);
    const res = await h.post('/v1/chat/completions', chatBody('known 0'));
    await res.text();
    await expect
      .poll(async () => Number((await figure(page, 'requests-total')).value), { timeout: 12_000, interval: 250 })
      .toBe(before + 1);
    await page.click('#logout');
    await page.waitForSelector('#token');
    expect(await browser.context.cookies(h.url)).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  });
});
