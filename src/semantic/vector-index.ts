import type { PurgeFilter } from '../cache/store.js';
import { type IndexMatch, type IndexRow, type RowMeta } from './types.js';

/**
 * Where semantic candidates live, behind one small contract so that an ANN index or a vector
 * database can replace the exact scan later. Every row belongs to one hard partition; a search
 * never looks outside it.
 */
export interface VectorIndex {
  /** The best rows at or above `minSimilarity`, most similar first, at most `limit`. Expired rows never match. */
  search(partition: string, vector: Float32Array, minSimilarity: number, limit: number): Promise<IndexMatch[]>;
  /** Add or replace the row for `row.key`. */
  add(partition: string, row: IndexRow): Promise<void>;
  /** Drop the row pointing at an exact key (its entry was evicted, expired or purged). */
  remove(key: string): Promise<boolean>;
  purge(filter: PurgeFilter): Promise<number>;
  stats(): IndexStats;
}

export interface IndexStats {
  partitions: number;
  rows: number;
  bytes: number;
}

export interface ScanIndexOptions {
  /** Rows kept over all partitions. Default 100,000. */
  maxRows?: number;
  /** Resident bytes over all partitions (vectors plus metadata). Default 64 MiB. */
  maxBytes?: number;
  /** Rows kept in one partition; past it the oldest row there goes. Default 10,000. */
  maxRowsPerPartition?: number;
  now?: () => number;
}

/** Fixed cost of one row besides its vector: the meta object, its strings, the maps. */
const ROW_OVERHEAD_BYTES = 256;

interface Partition {
  dimension: number;
  /** Row i occupies data[i*dimension, (i+1)*dimension). */
  data: Float32Array;
  metas: RowMeta[];
  /** key -> row number, kept in step with swap-removal. */
  rows: Map<string, number>;
}

/**
 * The in-process index: per partition, vectors packed in one Float32Array and scanned exactly.
 * Partitions are small by construction (same tenant, model, system prompt, tools...), so a
 * scan is fast; bench/RESULTS.md says where it stops being so. Bounded by rows and bytes,
 * evicting the oldest row first.
 */
export class ScanIndex implements VectorIndex {
  readonly #partitions = new Map<string, Partition>();
  /** Every key, oldest first (Map keeps insertion order), with its partition. */
  readonly #order = new Map<string, string>();
  readonly #maxRows: number;
  readonly #maxBytes: number;
  readonly #maxRowsPerPartition: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: ScanIndexOptions = {}) {
    this.#maxRows = options.maxRows ?? 100_000;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxRowsPerPartition = options.maxRowsPerPartition ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async search(partition: string, vector: Float32Array, minSimilarity: number, limit: number): Promise<IndexMatch[]> {
    return this.searchSync(partition, vector, minSimilarity, limit);
  }

  searchSync(partition: string, vector: Float32Array, minSimilarity: number, limit: number): IndexMatch[] {
    const p = this.#partitions.get(partition);
    if (!p || p.dimension !== vector.length) return [];
    const now = this.#now();
    const dim = p.dimension;
    const best: IndexMatch[] = [];
    const expired: string[] = [];
    const data = p.data;
    for (let row = 0; row < p.metas.length; row++) {
      let sum = 0;
      const base = row * dim;
      for (let i = 0; i < dim; i++) sum += (data[base + i] as number) * (vector[i] as number);
      if (sum < minSimilarity) continue;
      const meta = p.metas[row] as RowMeta;
      if (meta.expiresAt <= now) {
        expired.push(meta.key);
        continue;
      }
      insertBest(best, { meta, similarity: sum }, limit);
    }
    for (const key of expired) this.#removeKey(key);
    return best;
  }

  async add(partition: string, row: IndexRow): Promise<void> {
    this.addSync(partition, row);
  }

  addSync(partition: string, row: IndexRow): void {
    if (row.expiresAt <= this.#now() || row.vector.length === 0) return;
    this.#removeKey(row.key);
    let p = this.#partitions.get(partition);
    if (p && p.dimension !== row.vector.length) return;
    if (!p) {
      p = { dimension: row.vector.length, data: new Float32Array(row.vector.length * 4), metas: [], rows: new Map() };
      this.#partitions.set(partition, p);
    }
    if (p.metas.length >= this.#maxRowsPerPartition) this.#evictOldestIn(partition);
    const dim = p.dimension;
    const count = p.metas.length;
    if ((count + 1) * dim > p.data.length) {
      const grown = new Float32Array(Math.max(p.data.length * 2, dim * 4));
      grown.set(p.data.subarray(0, count * dim));
      p.data = grown;
    }
    p.data.set(row.vector, count * dim);
    const { vector: _vector, ...meta } = row;
    p.rows.set(meta.key, p.metas.length);
    p.metas.push(meta);
    this.#order.set(row.key, partition);
    this.#bytes += rowBytes(dim, meta);
    while ((this.#order.size > this.#maxRows || this.#bytes > this.#maxBytes) && this.#order.size > 0) {
      const oldest = this.#order.keys().next().value as string;
      this.#removeKey(oldest);
    }
  }

  async remove(key: string): Promise<boolean> {
    return this.#removeKey(key);
  }

  async purge(filter: PurgeFilter): Promise<number> {
    if ('key' in filter) return this.#removeKey(filter.key) ? 1 : 0;
    if ('all' in filter) {
      const count = this.#order.size;
      this.#partitions.clear();
      this.#order.clear();
      this.#bytes = 0;
      return count;
    }
    const matches =
      'namespace' in filter
        ? (meta: RowMeta) => meta.namespace === filter.namespace
        : (meta: RowMeta) => meta.tags.includes(filter.tag);
    const doomed: string[] = [];
    for (const p of this.#partitions.values()) for (const meta of p.metas) if (matches(meta)) doomed.push(meta.key);
    for (const key of doomed) this.#removeKey(key);
    return doomed.length;
  }

  stats(): IndexStats {
    return { partitions: this.#partitions.size, rows: this.#order.size, bytes: this.#bytes };
  }

  #evictOldestIn(name: string): void {
    for (const [key, partition] of this.#order) {
      if (partition === name) {
        this.#removeKey(key);
        return;
      }
    }
  }

  #removeKey(key: string): boolean {
    const name = this.#order.get(key);
    if (name === undefined) return false;
    this.#order.delete(key);
    const p = this.#partitions.get(name);
    if (!p) return true;
    const row = p.rows.get(key);
    if (row === undefined) return true;
    p.rows.delete(key);
    const dim = p.dimension;
    const last = p.metas.length - 1;
    this.#bytes -= rowBytes(dim, p.metas[row] as RowMeta);
    // Swap-remove: order inside a partition does not matter to a full scan.
    if (row !== last) {
      p.data.copyWithin(row * dim, last * dim, (last + 1) * dim);
      const moved = p.metas[last] as RowMeta;
      p.metas[row] = moved;
      p.rows.set(moved.key, row);
    }
    p.metas.pop();
    if (p.metas.length === 0) this.#partitions.delete(name);
    else if (p.metas.length * dim * 4 < p.data.length && p.data.length > dim * 16) {
      p.data = p.data.slice(0, p.data.length / 2);
    }
    return true;
  }
}

function rowBytes(dimension: number, meta: RowMeta): number {
  return dimension * 4 + ROW_OVERHEAD_BYTES + (meta.key.length + meta.namespace.length + meta.tags.join('').length) * 2;
}

function insertBest(best: IndexMatch[], match: IndexMatch, limit: number): void {
  if (best.length >= limit && (best[best.length - 1] as IndexMatch).similarity >= match.similarity) return;
  let i = best.length;
  while (i > 0 && (best[i - 1] as IndexMatch).similarity < match.similarity) i--;
  best.splice(i, 0, match);
  if (best.length > limit) best.pop();
}
