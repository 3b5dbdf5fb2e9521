import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const scrape = async () => (await fetch(`${h.url}/metrics`)).text();

/** Sample lines (not # HELP / # TYPE) as name{labels} -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('/metrics', () => {
  test('process and runtime metrics carry the sluice_ prefix once', async () => {
    const text = await scrape();
    expect(text).not.toContain('sluice_process_process_');
    expect(text).toMatch(/^sluice_process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^sluice_nodejs_heap_size_total_bytes /m);
  });

  test('event-loop delay gauges never report an empty histogram (no NaN, no 9223372036.85)', async () => {
    // Back-to-back scrapes fall within one sampling interval: the case that read an empty histogram.
    const texts = [await scrape(), await scrape(), await scrape()];
    await sleep(50);
    texts.push(await scrape(), await scrape());
    for (const text of texts) {
      for (const [name, value] of samples(text)) {
        if (!name.startsWith('sluice_nodejs_eventloop_lag')) continue;
        expect(Number.isFinite(value), `${name} = ${value}`).toBe(true);
        expect(value, name).toBeLessThan(60);
        expect(value, name).toBeGreaterThanOrEqual(0);
      }
    }
    expect(samples(texts[4] as string).has('sluice_nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  test('lookups are counted by outcome: HIT, SEMANTIC-HIT, COALESCED, MISS', async () => {
    const count = async () => {
      const all = samples(await scrape());
      const get = (outcome: string) => all.get(`sluice_cache_lookup_outcomes_total{outcome="${outcome}"}`);
      return { HIT: get('HIT'), SEMANTIC: get('SEMANTIC-HIT'), COALESCED: get('COALESCED'), MISS: get('MISS') };
    };
    const before = await count();
    // Defined from the start, so a hit ratio is never a division by an absent series.
    expect(before).toEqual({ HIT: 0, SEMANTIC: 0, COALESCED: 0, MISS: 0 });

    const body = chatBody('outcome counter', { stream: true });
    const knobs = { 'x-mock-delay-ms': '20', 'x-mock-words': '10' };
    await Promise.all([
      h.post('/v1/chat/completions', body, knobs).then((r) => r.text()),
      sleep(40).then(() => h.post('/v1/chat/completions', body, knobs).then((r) => r.text())),
    ]);
    await sleep(30);
    await (await h.post('/v1/chat/completions', body)).text();
    await (await h.post('/v1/chat/completions', body)).text();
    // Not lookups: a bypass and a refresh skip the cache read.
    await (await h.post('/v1/chat/completions', body, { 'cache-control': 'no-store' })).text();
    await (await h.post('/v1/chat/completions', body, { 'cache-control': 'no-cache' })).text();
    expect(await count()).toEqual({ HIT: 2, SEMANTIC: 0, COALESCED: 1, MISS: 1 });
  });
});
