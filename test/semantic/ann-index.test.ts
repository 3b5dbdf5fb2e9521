import { describe, expect, it } from 'vitest';
import { PROMOTE_AT } from '../../src/semantic/partition.js';
import { cosine, normalize } from '../../src/semantic/types.js';
import { SemanticIndex } from '../../src/semantic/vector-index.js';

const DIM = 128;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Clustered unit vectors, as texts on a few topics embed: a centre per topic plus noise. */
function vectors(count: number, seed: number): Float32Array[] {
  const random = seeded(seed);
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: DIM }, () => random() * 2 - 1));
  return Array.from({ length: count }, (_, i) => {
    const centre = centres[i % centres.length] as Float32Array;
    return normalize(Float32Array.from(centre, (c) => c + (random() * 2 - 1) * 0.9));
  });
}

function nudge(vector: Float32Array, seed: number, amount: number): Float32Array {
  const random = seeded(seed);
  return normalize(Float32Array.from(vector, (v) => v + (random() * 2 - 1) * amount));
}

const row = (key: string, vector: Float32Array, extra: object = {}) => ({
  key,
  namespace: 'default',
  tags: [] as string[],
  expiresAt: Date.now() + 600_000,
  veto: 'v',
  vector,
  ...extra,
});

describe('SemanticIndex past PROMOTE_AT rows (HNSW)', () => {
  it('agrees with an exact float scan on >= 98% of the lookups at or above the threshold', async () => {
    const rows = vectors(PROMOTE_AT * 3, 1);
    const index = new SemanticIndex();
    for (const [i, v] of rows.entries()) index.addSync('p', row(`k${i}`, v));
    expect(index.approximate('p')).toBe(true);
    const threshold = 0.9;
    let above = 0;
    let agreed = 0;
    for (let q = 0; q < 300; q++) {
      const target = rows[(q * 37) % rows.length] as Float32Array;
      const query = nudge(target, q + 1000, 0.02);
      let bestKey = '';
      let best = -1;
      for (const [i, v] of rows.entries()) {
        const s = cosine(query, v);
        if (s > best) [best, bestKey] = [s, `k${i}`];
      }
      if (best < threshold) continue;
      above += 1;
      const found = index.searchSync('p', query, threshold, 1);
      if (found[0]?.meta.key === bestKey) agreed += 1;
    }
    expect(above).toBeGreaterThan(250);
    expect(agreed / above).toBeGreaterThanOrEqual(0.98);
  });

  it('takes removed, purged, expired and evicted rows out of the graph, and reuses their room', async () => {
    let now = 1_000_000;
    const rows = vectors(PROMOTE_AT * 2, 2);
    const index = new SemanticIndex({ now: () => now, maxRowsPerPartition: rows.length });
    for (const [i, v] of rows.entries()) {
      const tags = i % 4 === 1 ? ['t'] : [];
      const namespace = i % 4 === 2 ? 'ns' : 'default';
      const expiresAt = i % 4 === 3 ? now + 1_000 : now + 600_000;
      index.addSync('p', row(`k${i}`, v, { tags, namespace, expiresAt }));
    }
    expect(index.approximate('p')).toBe(true);
    const full = index.stats().bytes;
    const findsItself = (i: number) => index.searchSync('p', rows[i] as Float32Array, 0.99, 1)[0]?.meta.key === `k${i}`;
    expect([0, 1, 2, 3].every(findsItself)).toBe(true);

    expect(await index.remove('k0')).toBe(true);
    expect(await index.purge({ tag: 't' })).toBe(PROMOTE_AT / 2);
    expect(await index.purge({ namespace: 'ns' })).toBe(PROMOTE_AT / 2);
    now += 2_000;
    // Expired rows go when a lookup meets them, and with the sweep each add makes.
    expect(findsItself(3)).toBe(false);
    for (let i = 0; i < rows.length; i++) {
      if (i === 0 || i % 4 !== 0) expect(findsItself(i), `k${i}`).toBe(false);
    }
    for (let i = 4; i < rows.length; i += 4) expect(findsItself(i), `k${i}`).toBe(true);

    // Eviction: a full partition drops its oldest row, and the graph forgets it.
    const small = new SemanticIndex({ maxRowsPerPartition: PROMOTE_AT + 10 });
    const more = vectors(PROMOTE_AT + 20, 3);
    for (const [i, v] of more.entries()) small.addSync('p', row(`e${i}`, v));
    expect(small.stats().rows).toBe(PROMOTE_AT + 10);
    expect(small.searchSync('p', more[0] as Float32Array, 0.99, 1)[0]?.meta.key).not.toBe('e0');
    expect(small.searchSync('p', more[PROMOTE_AT + 19] as Float32Array, 0.99, 1)[0]?.meta.key).toBe(`e${PROMOTE_AT + 19}`);

    // Churn: as many rows again, after the deletions, fit in the slots they left.
    for (let i = 0; i < rows.length; i++) index.addSync('p', row(`n${i}`, nudge(rows[i] as Float32Array, i, 0.5)));
    expect(index.stats().rows).toBeLessThanOrEqual(rows.length + PROMOTE_AT / 2);
    expect(index.stats().bytes).toBeLessThan(full * 1.4);
  });

  it('keeps a partition in its HNSW graph within the byte bound, oldest rows first', () => {
    const maxBytes = 512 * 1024;
    const index = new SemanticIndex({ maxBytes });
    const random = seeded(4);
    const last = normalize(Float32Array.from({ length: 512 }, () => random() - 0.5));
    for (let i = 0; i < PROMOTE_AT * 3; i++) {
      const vector = i === PROMOTE_AT * 3 - 1 ? last : normalize(Float32Array.from({ length: 512 }, () => random() - 0.5));
      index.addSync('p', row(`k${i}`, vector));
      expect(index.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(index.approximate('p')).toBe(true);
    const { rows, bytes } = index.stats();
    expect(rows).toBeLessThan(PROMOTE_AT * 3);
    expect(bytes / rows).toBeLessThan(1600);
    expect(index.searchSync('p', last, 0.99, 1)[0]?.meta.key).toBe(`k${PROMOTE_AT * 3 - 1}`);
  });
});

describe('SemanticIndex and vectors with no direction', () => {
  it('neither stores nor finds a zero vector, in the scan or in the graph', () => {
    const index = new SemanticIndex();
    for (const [i, v] of vectors(PROMOTE_AT + 10, 5).entries()) index.addSync('p', row(`k${i}`, v));
    expect(index.approximate('p')).toBe(true);
    index.addSync('p', row('zero', new Float32Array(DIM)));
    index.addSync('q', row('zero-q', new Float32Array(DIM)));
    expect(index.stats().rows).toBe(PROMOTE_AT + 10);
    expect(index.searchSync('p', new Float32Array(DIM), 0, 4)).toEqual([]);
  });
});

describe('SemanticIndex.dropPartition', () => {
  it('drops every row of one partition, scan or graph, and nothing else', async () => {
    const index = new SemanticIndex();
    const big = vectors(PROMOTE_AT + 10, 6);
    for (const [i, v] of big.entries()) index.addSync('big', row(`b${i}`, v));
    for (const [i, v] of vectors(5, 7).entries()) index.addSync('small', row(`s${i}`, v));
    expect(await index.dropPartition('big')).toBe(PROMOTE_AT + 10);
    expect(await index.dropPartition('small')).toBe(5);
    expect(index.stats()).toEqual({ partitions: 0, rows: 0, bytes: 0 });
    index.addSync('big', row('again', big[0] as Float32Array));
    expect(index.searchSync('big', big[0] as Float32Array, 0.99, 1)[0]?.meta.key).toBe('again');
  });
});
