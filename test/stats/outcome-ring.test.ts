import { describe, expect, it } from 'vitest';
import { emptyCounts, hitRatio, OutcomeHistory, TimeRing } from '../../src/stats/outcome-ring.js';
import { TopCounts } from '../../src/stats/top-counts.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('time ring', () => {
  it('counts per bucket and returns exactly `size` buckets, oldest first, ending with the current one', () => {
    const ring = new TimeRing(MINUTE, 60);
    ring.add('HIT', T0);
    ring.add('HIT', T0 + 59_999);
    ring.add('MISS', T0 + MINUTE);
    const series = ring.series(T0 + MINUTE + 5);
    expect(series.starts).toHaveLength(60);
    expect(series.bucketSeconds).toBe(60);
    expect(series.starts.at(-1)).toBe(T0 + MINUTE);
    expect(series.starts.at(-2)).toBe(T0);
    expect(series.counts.HIT.at(-2)).toBe(2);
    expect(series.counts.MISS.at(-1)).toBe(1);
    expect(series.counts.HIT.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('forgets buckets older than its window, even when their slot was never reused', () => {
    const ring = new TimeRing(MINUTE, 60);
    ring.add('ERROR', T0);
    expect(ring.sum(T0 + 59 * MINUTE, 60 * MINUTE).ERROR).toBe(1);
    expect(ring.sum(T0 + 60 * MINUTE, 60 * MINUTE).ERROR).toBe(0);
    expect(ring.series(T0 + 61 * MINUTE).counts.ERROR.every((c) => c === 0)).toBe(true);
    // The slot comes round again: the old count is reset, not added to.
    ring.add('ERROR', T0 + 60 * MINUTE);
    expect(ring.series(T0 + 60 * MINUTE).counts.ERROR.at(-1)).toBe(1);
  });

  it('keeps totals since start next to the minute and hour rings', () => {
    const history = new OutcomeHistory();
    for (let i = 0; i < 30; i++) history.record('HIT', T0 + i * 10 * MINUTE);
    expect(history.totals.HIT).toBe(30);
    const now = T0 + 29 * 10 * MINUTE;
    expect(history.minutes.sum(now, 60 * MINUTE).HIT).toBe(6);
    expect(history.hours.series(now).starts).toHaveLength(24);
    expect(history.hours.sum(now, 24 * 60 * MINUTE).HIT).toBe(30);
  });
});

describe('hit ratio', () => {
  it('is hits over the requests that looked, and null before any', () => {
    expect(hitRatio(emptyCounts())).toBeNull();
    const counts = { ...emptyCounts(), HIT: 3, 'SEMANTIC-HIT': 1, COALESCED: 2, MISS: 2, REFRESH: 5, BYPASS: 5, ERROR: 9 };
    expect(hitRatio(counts)).toBe(4 / 8);
  });
});

describe('top counts', () => {
  it('ranks by count and stays bounded however many names arrive', () => {
    const top = new TopCounts<string>(10);
    for (let i = 0; i < 5; i++) top.add('popular', 'v1');
    top.add('popular', 'v2');
    for (let i = 0; i < 1000; i++) top.add(`one-off-${i}`, 'x');
    expect(top.size).toBeLessThanOrEqual(10);
    expect(top.top(1)).toEqual([{ name: 'popular', count: 6, value: 'v2' }]);
  });
});
