import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

/**
 * Forms derived from an entry on a hit (the stream synthesized from a JSON entry, with and
 * without usage; the JSON assembled from a stream entry; the stream with its usage stripped;
 * paced replays of each) are held within their own budget, a quarter of cache.memoryMaxBytes,
 * whatever formats clients ask for (README, "Two tiers"). The heap is measured after a full GC
 * before and after the hits that derive them; every request body was already sent once (with
 * `Cache-Control: no-store`), so nothing else the gateway keeps per body grows in between.
 * Stated bound: the heap (V8 heap + buffers) grows by at most 3x the derived budget (the forms,
 * counted at most 1x, plus what each hit keeps besides: its key in the key memo, LRU structures).
 * Before the derived LRU, the same run grew the heap by 24 MB.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const BUDGET = 4_000_000;
const WORDS = '200';
const JSON_ENTRIES = 100;
const STREAM_ENTRIES = 40;
const PACED = 8;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cache: { memoryMaxBytes: BUDGET }, accessLog: false });
});
afterAll(async () => h.close());

async function ask(content: string, extra: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await h.post('/v1/chat/completions', chatBody(content, extra), { 'x-mock-words': WORDS, ...headers });
  const body = await res.arrayBuffer();
  expect(res.status).toBe(200);
  return { outcome: res.headers.get('x-sluice-cache'), bytes: body.byteLength };
}

/** Runs `work` over 0..n-1, `width` at a time. */
async function each(n: number, width: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

async function untilStored(content: string, extra: Record<string, unknown>) {
  for (let i = 0; i < 50; i++) {
    if ((await ask(content, extra)).outcome === 'HIT') return;
    await sleep(10);
  }
  throw new Error(`never stored: ${content}`);
}

describe('derived forms on a hit stay within a bound of the L1 budget', () => {
  test('every conversion over many entries: heap growth after GC within 3x the derived budget', async () => {
    const run = `${process.pid}-${Date.now()}`;
    const jsonPrompt = (i: number) => `derived json ${run} ${i}`;
    const streamPrompt = (i: number) => `derived stream ${run} ${i}`;
    const withUsage = { stream: true, stream_options: { include_usage: true } };
    const conversions = async (headers: Record<string, string>, expected: string) => {
      await each(JSON_ENTRIES, 8, async (i) => {
        expect((await ask(jsonPrompt(i), { stream: true }, headers)).outcome).toBe(expected);
        expect((await ask(jsonPrompt(i), withUsage, headers)).outcome).toBe(expected);
      });
      await each(STREAM_ENTRIES, 8, async (i) => {
        expect((await ask(streamPrompt(i), {}, headers)).outcome).toBe(expected);
        expect((await ask(streamPrompt(i), { stream: true }, headers)).outcome).toBe(expected);
      });
      await each(PACED, 4, async (i) => {
        const paced = { ...headers, 'x-sluice-replay': '100000' };
        expect((await ask(jsonPrompt(i), { stream: true }, paced)).outcome).toBe(expected);
        expect((await ask(streamPrompt(i), { stream: true }, paced)).outcome).toBe(expected);
      });
    };

    // JSON entries, and stream entries that recorded usage.
    await each(JSON_ENTRIES, 8, async (i) => untilStored(jsonPrompt(i), {}));
    await each(STREAM_ENTRIES, 8, async (i) => untilStored(streamPrompt(i), withUsage));
    // Every request body of the conversions once, bypassing the cache: warms what is kept per body.
    await conversions({ 'cache-control': 'no-store' }, 'BYPASS');
    const before = heapAfterGc();

    // The same requests as hits: streams synthesized (with and without usage), JSON assembled,
    // usage stripped, paced replays of both kinds.
    await conversions({}, 'HIT');
    const grown = heapAfterGc() - before;

    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const counted = Number(/^sluice_cache_bytes(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const derived = Number(/^sluice_cache_derived_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN);
    console.log(
      `heap growth from derived forms ${(grown / 1e6).toFixed(2)} MB; counted: L1 ${(counted / 1e6).toFixed(2)} MB, derived ${(derived / 1e6).toFixed(2)} MB; memoryMaxBytes ${(BUDGET / 1e6).toFixed(1)} MB`,
    );
    expect(counted).toBeLessThanOrEqual(BUDGET);
    expect(derived).toBeGreaterThan(0);
    expect(derived).toBeLessThanOrEqual(BUDGET / 4);
    expect(grown).toBeLessThan(3 * (BUDGET / 4));
  }, 180_000);
});
