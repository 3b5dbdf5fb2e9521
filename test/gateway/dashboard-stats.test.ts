import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOMES } from '../../src/stats/outcome-ring.js';
import { chatBody, eventually, type Harness, startHarness } from './harness.js';

const TOKEN = 'admin-token-0123456789';
const PRICE = { inputPerMTok: 1000, outputPerMTok: 3000 };

interface Stats {
  requests: { total: number; byOutcome: Record<string, number>; hitRatio: number | null };
  series: { minute: { starts: number[]; counts: Record<string, number[]> }; hour: { starts: number[] } };
  savings: {
    hits: number;
    tokens: { input: number; output: number };
    usd: number;
    usageUnknown: number;
    unpriced: number;
    timeSavedMs: number;
    durationUnknown: number;
    pricesDate: string;
    priceOverrides: number;
  };
  storeWrites: { stored: number; skipped: number; skippedByReason: Record<string, number> };
  stores: { l1: { entries: number; bytes: number; maxBytes: number }; l2: unknown };
  top: {
    models: Array<{ name: string; hits: number }>;
    namespaces: Array<{ name: string; hits: number }>;
    entries: Array<{ keyPrefix: string; model: string; format: string; bytes: number; hits: number }>;
  };
}

describe('dashboard figures from known traffic', () => {
  let h: Harness;
  const expected = { input: 0, output: 0, hitReplays: 0, answer: '' };

  const send = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await h.post('/v1/chat/completions', body, headers);
    const text = await res.text();
    return { status: res.status, cache: res.headers.get('x-sluice-cache'), text };
  };
  const stats = async () =>
    (await (await fetch(`${h.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Stats;

  beforeAll(async () => {
    h = await startHarness({
      adminToken: TOKEN,
      prices: { 'gpt-4o-mini': PRICE },
      cache: { maxEntryBytes: 16 * 1024 },
    });
    // The upstream takes a while per answer, so a hit has time to save.
    const slow = { 'x-mock-delay-ms': '15', 'x-mock-words': '10' };
    // 3 misses, stored.
    for (const q of ['q0', 'q1', 'q2']) expect((await send(chatBody(q), slow)).cache).toBe('MISS');
    await eventually(async () => (await stats()).storeWrites.stored === 3);
    // 5 hits on them: 2, 2 and 1.
    for (const q of ['q0', 'q1', 'q2', 'q0', 'q1']) {
      const hit = await send(chatBody(q));
      expect(hit.cache).toBe('HIT');
      const answer = JSON.parse(hit.text) as {
        usage: { prompt_tokens: number; completion_tokens: number };
        choices: Array<{ message: { content: string } }>;
      };
      const usage = answer.usage;
      expected.answer = answer.choices[0]?.message.content ?? '';
      expected.input += usage.prompt_tokens;
      expected.output += usage.completion_tokens;
      expected.hitReplays++;
    }
    // 3 answers not stored: an upstream 429, a stream cut before its end, an answer past the size bound.
    expect((await send(chatBody('rate limited'), { 'x-mock-status': '429' })).status).toBe(429);
    await send(chatBody('cut', { stream: true }), { 'x-mock-truncate': '3' });
    await send(chatBody('huge'), { 'x-mock-words': '6000' });
    // A stream recorded without usage, then hit: its savings are "usage unknown", not zero and not a guess.
    await send(chatBody('no usage', { stream: true }), slow);
    await eventually(async () => (await stats()).storeWrites.stored === 4);
    expect((await send(chatBody('no usage', { stream: true }))).cache).toBe('HIT');
    // One bypass and one refresh.
    expect((await send(chatBody('q0'), { 'cache-control': 'no-store' })).cache).toBe('BYPASS');
    expect((await send(chatBody('q2'), { 'cache-control': 'no-cache' })).cache).toBe('REFRESH');
    await eventually(async () => {
      const s = await stats();
      return s.storeWrites.stored === 5 && s.storeWrites.skipped === 3;
    });
  });
  afterAll(async () => h.close());

  it('counts requests by outcome, with the hit ratio over the requests that looked', async () => {
    const s = await stats();
    expect(s.requests.byOutcome).toEqual({
      HIT: 6,
      'SEMANTIC-HIT': 0,
      COALESCED: 0,
      MISS: 6, // 3 stored + cut stream + huge + the usage-less stream
      REFRESH: 1,
      BYPASS: 1,
      ERROR: 1,
    });
    expect(s.requests.total).toBe(15);
    expect(s.requests.hitRatio).toBeCloseTo(6 / 12, 12);
  });

  it('keeps the same counts in the per-minute ring (60 buckets) and the per-hour ring (24)', async () => {
    const s = await stats();
    expect(s.series.minute.starts).toHaveLength(60);
    expect(s.series.hour.starts).toHaveLength(24);
    for (const outcome of OUTCOMES) {
      const inRing = (s.series.minute.counts[outcome] ?? []).reduce((a, b) => a + b, 0);
      expect(inRing, outcome).toBe(s.requests.byOutcome[outcome]);
    }
  });

  it('counts tokens and money saved from the recorded usage and the configured price', async () => {
    const s = await stats();
    expect(s.savings.hits).toBe(6);
    expect(s.savings.tokens).toEqual({ input: expected.input, output: expected.output });
    expect(s.savings.usd).toBeCloseTo(
      (expected.input * PRICE.inputPerMTok + expected.output * PRICE.outputPerMTok) / 1e6,
      9,
    );
    expect(s.savings.usageUnknown).toBe(1);
    expect(s.savings.unpriced).toBe(0);
    expect(s.savings.priceOverrides).toBe(1);
    expect(s.savings.pricesDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('counts time saved from the upstream duration recorded in each entry', async () => {
    const s = await stats();
    expect(s.savings.durationUnknown).toBe(0);
    // Each slow answer took >= 10 chunks x 15 ms upstream; its replays take a few ms.
    expect(s.savings.timeSavedMs).toBeGreaterThan(6 * 100);
  });

  it('shows stored against skipped writes, by reason', async () => {
    const s = await stats();
    expect(s.storeWrites).toEqual({
      stored: 5,
      skipped: 3,
      skippedByReason: { status_429: 1, incomplete_stream: 1, entry_too_large: 1 },
    });
  });

  it('shows stores and the most-hit entries with metadata only: no body, prompt, answer or credential', async () => {
    const s = await stats();
    expect(s.stores.l1.entries).toBe(4);
    expect(s.stores.l1.maxBytes).toBeGreaterThan(s.stores.l1.bytes);
    expect(s.stores.l2).toBeNull();
    expect(s.top.models).toEqual([{ name: 'gpt-4o-mini', hits: 6 }]);
    expect(s.top.namespaces).toEqual([{ name: 'default', hits: 6 }]);
    expect(s.top.entries.map((e) => e.hits)).toEqual([2, 2, 1, 1]);
    for (const entry of s.top.entries) {
      expect(entry.keyPrefix).toMatch(/^v\d+:[0-9a-f]{16}$/);
      expect(Object.keys(entry).sort()).toEqual(
        ['ageSeconds', 'bytes', 'createdAt', 'format', 'hits', 'keyPrefix', 'model', 'namespace', 'protocol'].sort(),
      );
    }
    const text = JSON.stringify(s);
    expect(text).not.toContain('sk-test-tenant-a');
    expect(text).not.toContain('q0');
    expect(expected.answer.length).toBeGreaterThan(10);
    expect(text).not.toContain(expected.answer);
    expect(text).not.toContain(expected.answer.slice(0, 12));
  });

  it('exports time saved, money saved and skipped writes by reason to Prometheus', async () => {
    const s = await stats();
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1]);
    expect(value(/^sluice_cache_time_saved_seconds_total (\S+)$/m)).toBeCloseTo(s.savings.timeSavedMs / 1000, 6);
    expect(value(/^sluice_cache_cost_saved_usd_total\{model="gpt-4o-mini"\} (\S+)$/m)).toBeCloseTo(s.savings.usd, 9);
    expect(value(/^sluice_cache_hits_unestimated_total\{reason="usage_unknown"\} (\S+)$/m)).toBe(1);
    for (const [reason, count] of Object.entries(s.storeWrites.skippedByReason)) {
      expect(value(new RegExp(`^sluice_cache_writes_skipped_total\\{reason="${reason}"\\} (\\S+)$`, 'm'))).toBe(count);
    }
    expect(value(/^sluice_cache_tokens_saved_total\{kind="input"\} (\S+)$/m)).toBe(s.savings.tokens.input);
  });

  it('ships a Grafana dashboard that reads only series /metrics has', async () => {
    const file = join(import.meta.dirname, '..', '..', 'examples', 'grafana-dashboard.json');
    const dashboard = JSON.parse(await readFile(file, 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const names = new Set(exprs.flatMap((e) => e.match(/sluice_[a-z_]+/g) ?? []));
    for (const name of ['sluice_cache_time_saved_seconds_total', 'sluice_cache_cost_saved_usd_total', 'sluice_cache_writes_skipped_total']) {
      expect(names).toContain(name);
    }
    for (const name of names) {
      const family = name.replace(/_total$/, '');
      expect(metrics, name).toMatch(new RegExp(`^# HELP (${name}|${family}) `, 'm'));
    }
  });
});

describe('dashboard stores figures with a Redis L2', () => {
  it('shows L2 reachable with a closed breaker, then unreachable with its errors once Redis dies', async () => {
    const { startRedis } = await import('../helpers/redis-server.js');
    const redis = await startRedis();
    const h = await startHarness({ adminToken: TOKEN, redis: { url: redis.url, timeoutMs: 100 } });
    const l2 = async () =>
      (
        (await (await fetch(`${h.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
          stores: { l2: { reachable: boolean; connected: boolean; breaker: string; errorsLastHour: number } | null };
        }
      ).stores.l2;
    try {
      await eventually(async () => (await l2())?.reachable === true);
      expect(await l2()).toMatchObject({ reachable: true, connected: true, breaker: 'closed', errorsLastHour: 0 });
      await redis.kill();
      // Lookups keep working (fail-open) and each L2 failure is counted until the breaker opens.
      for (let i = 0; i < 8; i++) {
        expect((await h.post('/v1/chat/completions', chatBody(`while down ${i}`))).status).toBe(200);
      }
      await eventually(async () => {
        const state = await l2();
        return state?.reachable === false && state.errorsLastHour > 0;
      }, 5000);
      expect((await l2())?.breaker).not.toBe('closed');
    } finally {
      await h.close();
      await redis.stop();
    }
  });
});
