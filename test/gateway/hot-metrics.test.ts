import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { HotCounter, HotHistogram } from '../../src/gateway/hot-metrics.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// On bounds, between them, below the first, past the last, zero.
const VALUES = [0, 0.001, 0.005, 0.0051, 0.01, 0.2, 0.25, 1, 2.4999, 7, 30, 31, 1e6];

describe('HotHistogram', () => {
  test('exposes exactly what prom-client Histogram exposes for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotHistogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['route'], buckets: BUCKETS, registers: [ours] });
    const reference = new Histogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['route'], buckets: BUCKETS, registers: [theirs] });
    VALUES.forEach((value, i) => {
      const route = i % 3 === 0 ? '/v1/messages' : '/v1/chat/completions';
      hot.observe(value, route);
      reference.observe({ route }, value);
    });
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_bucket{le="+Inf",route="/v1/messages"} 5');
    // The JSON view too, but for prom-client's exemplar slots (null: exemplars are not enabled).
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (k, v: unknown) => (k === 'exemplar' ? undefined : v)));
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  test('two and zero labels, reset and the registry reset', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const two = new HotHistogram({ name: 'two', help: 'x', labelNames: ['a', 'b'], buckets: [1, 2], registers: [ours] });
    const none = new HotHistogram({ name: 'none', help: 'y', labelNames: [], buckets: [1], registers: [ours] });
    const twoRef = new Histogram({ name: 'two', help: 'x', labelNames: ['a', 'b'], buckets: [1, 2], registers: [theirs] });
    const noneRef = new Histogram({ name: 'none', help: 'y', labelNames: [], buckets: [1], registers: [theirs] });
    for (const [v, a, b] of [[0.5, 'x', 'y'], [1.5, 'x', 'z'], [3, 'w', 'y'], [2, 'x', 'y']] as const) {
      two.observe(v, a, b);
      twoRef.observe({ a, b }, v);
      none.observe(v);
      noneRef.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    two.observe(1, 'q', 'r');
    twoRef.observe({ a: 'q', b: 'r' }, 1);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test('a value that is not a finite number is dropped, not thrown (hooks must not throw)', async () => {
    const registry = new Registry();
    const hot = new HotHistogram({ name: 'h', help: 'h', labelNames: ['route'], buckets: [1], registers: [registry] });
    expect(() => hot.observe(Number.NaN, 'r')).not.toThrow();
    hot.observe(Number.POSITIVE_INFINITY, 'r');
    expect(await registry.metrics()).not.toContain('h_count');
  });

  test('buckets must ascend', () => {
    expect(() => new HotHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [2, 1], registers: [] })).toThrow(/ascending/);
  });
});

describe('HotCounter', () => {
  test('inc and a bound series add to the same series, exported as prom-client counts them', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['route', 'status'] as const, registers: [ours] });
    const reference = new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'status'], registers: [theirs] });
    const bound = hot.bind('/v1/messages', '200');
    bound.inc();
    bound.inc(2.5);
    hot.inc(1, '/v1/messages', '200');
    hot.inc(4, '/v1/chat/completions', '500');
    bound.inc(0);
    bound.inc(-3);
    reference.inc({ route: '/v1/messages', status: '200' }, 4.5);
    reference.inc({ route: '/v1/chat/completions', status: '500' }, 4);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // Counted at the scrape, not twice: a second scrape shows the same sums.
    expect(await ours.metrics()).toBe(await theirs.metrics());
    bound.inc();
    reference.inc({ route: '/v1/messages', status: '200' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test('a registry reset drops what was counted, sums not yet scraped included (as prom-client does)', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a'] as const, registers: [ours] });
    const reference = new Counter({ name: 'c_total', help: 'c', labelNames: ['a'], registers: [theirs] });
    hot.inc(2, 'x');
    reference.inc({ a: 'x' }, 2);
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    hot.inc(1, 'x');
    reference.inc({ a: 'x' }, 1);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test('label values are told apart whatever characters they hold (no joined id to collide)', async () => {
    const registry = new Registry();
    const hot = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'] as const, registers: [registry] });
    hot.inc(1, 'x\u0001y', 'z');
    hot.inc(1, 'x', 'y\u0001z');
    hot.inc(1, 'x', 'y');
    const lines = (await registry.metrics()).split('\n').filter((line) => line.startsWith('c_total{'));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.endsWith(' 1')).toBe(true);
  });

  test('a call with the wrong number of label values throws every time, also once a series like it exists', () => {
    const hot = new HotCounter({ name: 'w_total', help: 'w', labelNames: ['a', 'b'] as const, registers: [] });
    hot.inc(1, 'x', '');
    expect(() => hot.inc(1, 'x')).toThrow(/expected 2 label values, got 1/);
    expect(() => hot.inc(1, 'x', 'y', 'z')).toThrow(/expected 2 label values, got 3/);
    expect(() => hot.bind('x')).toThrow(/expected 2 label values/);
    expect(() => new HotCounter({ name: 'four_total', help: 'f', labelNames: ['a', 'b', 'c', 'd'] as const, registers: [] })).toThrow(/at most 3/);
  });
});
