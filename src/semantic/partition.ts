import { createRequire } from 'node:module';
import type * as Usearch from 'usearch';

type HnswIndex = Usearch.Index;

/**
 * usearch's CommonJS build, loaded on the first promotion: its ES module build (which locates its
 * native binary without __dirname) never finished loading when Sluice was require()d from
 * `node -e` (test/package/pack.test.ts), the CommonJS one does; and a process whose partitions
 * stay small never loads the addon at all.
 */
let usearch: typeof Usearch | undefined;
function loadUsearch(): typeof Usearch {
  usearch ??= createRequire(import.meta.url)('usearch') as typeof Usearch;
  return usearch;
}

/**
 * The vectors of one hard partition, quantized to int8, searched by cosine.
 *
 * Small partitions (most of them: one tenant, one model, one system prompt) are an exact scan
 * over packed int8 codes, which costs a few bytes of fixed overhead. A partition that grows past
 * PROMOTE_AT rows moves into an HNSW graph (usearch, native, int8): its lookup then grows with
 * log(rows) instead of rows, so 100,000 rows cost well under a millisecond of event-loop time
 * (bench/RESULTS.md). An HNSW index has ~55 KiB of fixed cost, which is why small partitions do
 * not get one. Rows are numbered by the caller; a removed row leaves the graph at once (usearch
 * marks it deleted and reuses its slot for a later add).
 */

/** Rows at which a partition moves from the exact scan to HNSW: a JS scan of 1,000 int8 rows of 512-d measured ~1 ms on a loaded 2-core host, HNSW at 10,000 rows ~0.2 ms (bench/RESULTS.md). */
export const PROMOTE_AT = 256;

/** HNSW parameters: 16 links per node (32 on the ground layer), as usearch and hnswlib default. */
const CONNECTIVITY = 16;
const EXPANSION_ADD = 64;
/** 64 agreed with an exact scan on 94-97% of lookups at 100k clustered rows, 128 on 99% (bench/RESULTS.md). */
const EXPANSION_SEARCH = 128;
/**
 * usearch's memory at 512-d with these parameters: ~55 KiB per index, about dimension + 350
 * bytes per row (the int8 vector on its tape, 32 ground-layer links, the upper layers, node
 * headers) and ~40 bytes per reserved slot (capacity doubles as rows grow). With the metadata
 * this counts ~1,120 B per row at 100,000 rows, where the process's RSS grew by 948 and 1,104 B
 * per row in two runs (bench/RESULTS.md): the count errs high, so the byte bound holds.
 */
const HNSW_FIXED_BYTES = 56 * 1024;
const HNSW_ROW_BYTES = 350;
const HNSW_SLOT_BYTES = 40;
/** Per scan row besides the int8 vector: its float scale and its id. */
const SCAN_ROW_BYTES = 8;

export interface PartitionMatch {
  id: number;
  similarity: number;
}

export class Partition {
  readonly dimension: number;
  /** Exact mode: row i is codes[i*dim, (i+1)*dim) times scales[i]. Undefined once promoted. */
  #codes: Int8Array | undefined;
  #scales: Float32Array | undefined;
  #ids: number[] = [];
  /** id -> row number in exact mode, kept in step with swap-removal; id -> 0 in HNSW mode. */
  readonly #rows = new Map<number, number>();
  #hnsw: HnswIndex | undefined;

  constructor(dimension: number) {
    this.dimension = dimension;
    this.#codes = new Int8Array(dimension * 4);
    this.#scales = new Float32Array(4);
  }

  get size(): number {
    return this.#rows.size;
  }

  /** The ids of its rows (a copy: safe to remove while going through it). */
  ids(): number[] {
    return [...this.#rows.keys()];
  }

  get approximate(): boolean {
    return this.#hnsw !== undefined;
  }

  /** Resident bytes of the vectors and the graph (the caller adds its own per-row metadata). */
  get bytes(): number {
    if (this.#hnsw) {
      return HNSW_FIXED_BYTES + this.#hnsw.size() * (this.dimension + HNSW_ROW_BYTES) + this.#hnsw.capacity() * HNSW_SLOT_BYTES;
    }
    return (this.#codes?.byteLength ?? 0) + (this.#scales?.byteLength ?? 0) + this.#ids.length * SCAN_ROW_BYTES;
  }

  add(id: number, vector: Float32Array): void {
    if (this.#hnsw) {
      this.#hnsw.add(BigInt(id), vector, 1);
      this.#rows.set(id, 0);
      return;
    }
    const dim = this.dimension;
    let codes = this.#codes as Int8Array;
    let scales = this.#scales as Float32Array;
    const row = this.#ids.length;
    if ((row + 1) * dim > codes.length) {
      const grownCodes = new Int8Array(codes.length * 2);
      grownCodes.set(codes);
      const grownScales = new Float32Array(scales.length * 2);
      grownScales.set(scales);
      this.#codes = codes = grownCodes;
      this.#scales = scales = grownScales;
    }
    scales[row] = quantizeInto(vector, codes, row * dim);
    this.#ids.push(id);
    this.#rows.set(id, row);
    if (this.#ids.length >= PROMOTE_AT) this.#promote();
  }

  remove(id: number): boolean {
    const row = this.#rows.get(id);
    if (row === undefined) return false;
    this.#rows.delete(id);
    if (this.#hnsw) {
      this.#hnsw.remove(BigInt(id));
      return true;
    }
    const dim = this.dimension;
    const codes = this.#codes as Int8Array;
    const scales = this.#scales as Float32Array;
    const last = this.#ids.length - 1;
    if (row !== last) {
      codes.copyWithin(row * dim, last * dim, (last + 1) * dim);
      scales[row] = scales[last] as number;
      const moved = this.#ids[last] as number;
      this.#ids[row] = moved;
      this.#rows.set(moved, row);
    }
    this.#ids.pop();
    if (this.#ids.length * 4 < scales.length && scales.length > 16) {
      this.#codes = codes.slice(0, codes.length / 2);
      this.#scales = scales.slice(0, scales.length / 2);
    }
    return true;
  }

  /** Up to `limit` rows at or above `minSimilarity`, most similar first. */
  search(vector: Float32Array, minSimilarity: number, limit: number): PartitionMatch[] {
    if (vector.length !== this.dimension || this.#rows.size === 0) return [];
    if (this.#hnsw) {
      const found = this.#hnsw.search(vector, Math.min(limit, this.#rows.size), 1);
      const out: PartitionMatch[] = [];
      for (let i = 0; i < found.keys.length; i++) {
        // usearch's cosine distance is 1 - cosine.
        const similarity = 1 - (found.distances[i] as number);
        if (similarity >= minSimilarity) out.push({ id: Number(found.keys[i]), similarity });
      }
      return out;
    }
    return this.#scan(vector, minSimilarity, limit);
  }

  /** Frees the native index now rather than at garbage collection. */
  clear(): void {
    this.#hnsw = undefined;
    this.#rows.clear();
    this.#ids = [];
    this.#codes = new Int8Array(this.dimension * 4);
    this.#scales = new Float32Array(4);
  }

  #scan(vector: Float32Array, minSimilarity: number, limit: number): PartitionMatch[] {
    const dim = this.dimension;
    const codes = this.#codes as Int8Array;
    const scales = this.#scales as Float32Array;
    const best: PartitionMatch[] = [];
    for (let row = 0; row < this.#ids.length; row++) {
      let sum = 0;
      const base = row * dim;
      for (let i = 0; i < dim; i++) sum += (codes[base + i] as number) * (vector[i] as number);
      const similarity = sum * (scales[row] as number);
      if (similarity < minSimilarity) continue;
      insertBest(best, { id: this.#ids[row] as number, similarity }, limit);
    }
    return best;
  }

  /** Moves every row into a fresh HNSW graph and drops the scan arrays. */
  #promote(): void {
    const dim = this.dimension;
    const codes = this.#codes as Int8Array;
    const scales = this.#scales as Float32Array;
    const { Index, MetricKind, ScalarKind } = loadUsearch();
    const hnsw = new Index({
      metric: MetricKind.Cos,
      dimensions: dim,
      connectivity: CONNECTIVITY,
      quantization: ScalarKind.I8,
      expansion_add: EXPANSION_ADD,
      expansion_search: EXPANSION_SEARCH,
      multi: false,
    });
    const vector = new Float32Array(dim);
    for (let row = 0; row < this.#ids.length; row++) {
      const scale = scales[row] as number;
      for (let i = 0; i < dim; i++) vector[i] = (codes[row * dim + i] as number) * scale;
      hnsw.add(BigInt(this.#ids[row] as number), vector, 1);
    }
    for (const id of this.#ids) this.#rows.set(id, 0);
    this.#hnsw = hnsw;
    this.#codes = undefined;
    this.#scales = undefined;
    this.#ids = [];
  }
}

/**
 * Symmetric int8 with one scale per row: the largest component maps to 127 (unit vectors of a
 * few hundred dimensions have components far below 1, so a fixed scale would waste the range),
 * and the scale makes the decoded row unit length again, so that a score is the cosine between
 * the query and the quantized row. Returns the scale.
 */
function quantizeInto(vector: Float32Array, codes: Int8Array, offset: number): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i] as number));
  if (max === 0) {
    codes.fill(0, offset, offset + vector.length);
    return 0;
  }
  const factor = 127 / max;
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const code = Math.round((vector[i] as number) * factor);
    codes[offset + i] = code;
    norm += code * code;
  }
  return 1 / Math.sqrt(norm);
}

function insertBest(best: PartitionMatch[], match: PartitionMatch, limit: number): void {
  if (best.length >= limit && (best[best.length - 1] as PartitionMatch).similarity >= match.similarity) return;
  let i = best.length;
  while (i > 0 && (best[i - 1] as PartitionMatch).similarity < match.similarity) i--;
  best.splice(i, 0, match);
  if (best.length > limit) best.pop();
}
