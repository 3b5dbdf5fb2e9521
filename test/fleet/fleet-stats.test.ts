import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OUTCOMES } from '../../src/stats/outcome-ring.js';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { ADMIN_TOKEN, chatBody, eventually, type Fleet, type Replica, sleep, startFleet } from './harness.js';

/** Issue 23, part 4: GET /admin/stats → `fleet` sums every replica's figures through Redis. */

interface FleetJson {
  replicas: number;
  members: { id: string; startedAt: string; lastReportAt: string; requests: { total: number } }[];
  requests: { total: number; byOutcome: Record<(typeof OUTCOMES)[number], number> };
  tokensSaved: { input: number; output: number };
}

async function fleetOf(replica: Replica): Promise<FleetJson> {
  const res = await replica.admin('GET', '/admin/stats');
  expect(res.status).toBe(200);
  return ((await res.json()) as { fleet: FleetJson }).fleet;
}

describe('the fleet figures', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3, config: { redis: { timeoutMs: 1_000 } } });
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
  });

  test('requests, outcomes and savings from every replica reach the fleet view on any replica within 5 s', async () => {
    const [a, b, c] = fleet.replicas as [Replica, Replica, Replica];
    await eventually('every replica to report in', async () => (await fleetOf(c)).replicas === 3, 10_000);
    const before = await fleetOf(a);
    expect(before.members.map((m) => m.id)).toHaveLength(3);
    expect(new Set(before.members.map((m) => m.id)).size).toBe(3);

    const body = chatBody('fleet figures');
    const ask = async (replica: Replica) => {
      const res = await replica.post('/v1/chat/completions', body);
      await res.text();
      return res.headers.get('x-sluice-cache');
    };
    expect(await ask(a)).toBe('MISS');
    await sleep(500);
    const outcomes = [await ask(a), await ask(b), await ask(c), await ask(c)];
    expect(outcomes).toEqual(['HIT', 'HIT', 'HIT', 'HIT']);
    const sent = Date.now();

    const took = await eventually(
      'the fleet view to count all five requests',
      async () => (await fleetOf(b)).requests.total - before.requests.total === 5,
      10_000,
    );
    expect(took).toBeLessThan(5_000);
    const after = await fleetOf(b);
    expect(after.requests.byOutcome.MISS - before.requests.byOutcome.MISS).toBe(1);
    expect(after.requests.byOutcome.HIT - before.requests.byOutcome.HIT).toBe(4);
    expect(OUTCOMES.reduce((sum, o) => sum + (after.requests.byOutcome[o] ?? 0), 0)).toBe(after.requests.total);
    // Four hits on an answer with usage: the tokens it saved, counted once per hit, fleet-wide.
    expect(after.tokensSaved.input).toBeGreaterThan(before.tokensSaved.input);
    expect(after.tokensSaved.output).toBeGreaterThan(0);
    // Every member reported since the requests, and the members' own totals add up to the fleet's.
    await eventually(
      'every member to report its own totals',
      async () => {
        const view = await fleetOf(a);
        return (
          view.members.every((m) => Date.parse(m.lastReportAt) >= sent) &&
          view.members.reduce((sum, m) => sum + m.requests.total, 0) === view.requests.total
        );
      },
      10_000,
    );
  }, 60_000);

  test('the dashboard shows the fleet by default, with a per-replica table, and this replica on request', async () => {
    if (!chromiumAvailable()) throw new Error('no Chromium: apt-get install -y chromium (.ci/run does)');
    const a = fleet.replicas[0] as Replica;
    const stats = async () => (await (await a.admin('GET', '/admin/stats')).json()) as { requests: { total: number }; fleet: FleetJson };
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${a.url}/dashboard`);
      await page.fill('#token', ADMIN_TOKEN);
      await page.click('button[type=submit]');
      await page.waitForSelector('body[data-scope="fleet"]');
      const current = await stats();
      expect(current.fleet.requests.total).toBeGreaterThan(current.requests.total);
      expect(await page.locator('#fleet-members tr[data-row]').count()).toBe(current.fleet.replicas);
      const total = async () => Number(await page.locator('[data-figure="requests-total"]').first().getAttribute('data-value'));
      expect(await total()).toBe(current.fleet.requests.total);
      await page.click('[data-scope="replica"]');
      await page.waitForSelector('body[data-scope="replica"]');
      expect(await total()).toBe(current.requests.total);
    } finally {
      await browser.close();
    }
  }, 60_000);

  test('a replica stopped on purpose leaves the member list', async () => {
    const c = fleet.replicas[2] as Replica;
    await c.kill('SIGTERM');
    await eventually('the fleet to count two replicas', async () => (await fleetOf(fleet.replicas[0] as Replica)).replicas === 2, 15_000);
  }, 30_000);
});
