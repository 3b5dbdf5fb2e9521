import type { PurgeFilter } from '../cache/store.js';
import { Partition } from './partition.js';
import { type IndexMatch, type IndexRow, type RowMeta } from './types.js';

/**
 * Where semantic candidates live, behind one small contract so that a vector database can
 * replace the in-process index later. Every row belongs to one hard partition; a search never
 * looks outside it.
 */
export interface VectorIndex {
  /** The best rows at or above `minSimilarity`, most similar first, at most `limit`. Expired rows never match. */
  search(partition: string, vector: Float32Array, minSimilarity: number, limit: number): Promise<IndexMatch[]>;
  /** Add or replace the row for `row.key`. */
  add(partition: string, row: IndexRow): Promise<void>;
  /** Drop the row pointing at an exact key (its entry was evicted, expired or purged). */
  remove(key: string): Promise<boolean>;
  purge(filter: PurgeFilter): Promise<number>;
  /** Drop every row of one partition (a replica that must load it again from the shared store). */
  dropPartition(partition: string): Promise<number>;
  stats(): IndexStats;
}

export interface IndexStats {
  partitions: number;
  rows: number;
  bytes: number;
}

export interface SemanticIndexOptions {
  /** Rows kept over all partitions. Default 100,000. */
  maxRows?: number;
  /** Resident bytes over all partitions (vectors, graph and metadata). Default 128 MiB. */
  maxBytes?: number;
  /** Rows kept in one partition; past it the oldest row there goes. Default 100,000. */
  maxRowsPerPartition?: number;
  now?: () => number;
}

/** Fixed cost of one row besides its vector and graph links: the meta object, its strings, the maps. */
const ROW_OVERHEAD_BYTES = 160;
/** Rows looked at for expiry on each add: expired rows leave even in partitions nobody searches. */
const SWEEP_PER_ADD = 8;

interface Row {
  id: number;
  partition: string;
  meta: RowMeta;
}

/**
 * The in-process index: per partition, int8 vectors in an exact scan while small and in an HNSW
 * graph once large (partition.ts). Bounded by rows and bytes, evicting the oldest row first;
 * every removal (purge, expiry, eviction, replacement) takes the row out of its partition at once.
 */
export class SemanticIndex implements VectorIndex {
  readonly #partitions = new Map<string, Partition>();
  /** Every key, oldest first (Map keeps insertion order). */
  readonly #rows = new Map<string, Row>();
  /** id -> key, for turning a partition's answer back into a row. */
  readonly #keyOf = new Map<number, string>();
  readonly #maxRows: number;
  readonly #maxBytes: number;
  readonly #maxRowsPerPartition: number;
  readonly #now: () => number;
  #nextId = 1;
  /** Bytes of the metadata; the partitions report their own. */
  #metaBytes = 0;
  #partitionBytes = 0;
  #sweep: Iterator<Row> | undefined;

  constructor(options: SemanticIndexOptions = {}) {
    this.#maxRows = options.maxRows ?? 100_000;
    this.#maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
    this.#maxRowsPerPartition = options.maxRowsPerPartition ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  async search(partition: string, vector: Float32Array, minSimilarity: number, limit: number): Promise<IndexMatch[]> {
    return this.searchSync(partition, vector, minSimilarity, limit);
  }

  searchSync(partition: string, vector: Float32Array, minSimilarity: number, limit: number): IndexMatch[] {
    const p = this.#partitions.get(partition);
    if (!p || p.dimension !== vector.length || !vector.some((v) => v !== 0)) return [];
    const now = this.#now();
    const out: IndexMatch[] = [];
    // A few more than asked, since expired rows among them are dropped here.
    for (const match of p.search(vector, minSimilarity, limit + 4)) {
      const key = this.#keyOf.get(match.id);
      const row = key === undefined ? undefined : this.#rows.get(key);
      if (!row) continue;
      if (row.meta.expiresAt <= now) {
        this.#removeKey(row.meta.key);
        continue;
      }
      if (out.length < limit) out.push({ meta: row.meta, similarity: match.similarity });
    }
    return out;
  }

  async add(partition: string, row: IndexRow): Promise<void> {
    this.addSync(partition, row);
  }

  addSync(partition: string, row: IndexRow): void {
    this.#sweepExpired();
    // A zero vector (a text of no words) matches nothing, and has no direction to index by.
    if (row.expiresAt <= this.#now() || !row.vector.some((v) => v !== 0)) return;
    this.#removeKey(row.key);
    let p = this.#partitions.get(partition);
    if (p && p.dimension !== row.vector.length) return;
    if (!p) {
      p = new Partition(row.vector.length);
      this.#partitions.set(partition, p);
      this.#partitionBytes += p.bytes;
    }
    if (p.size >= this.#maxRowsPerPartition) this.#evictOldestIn(partition);
    const id = this.#nextId++;
    const { vector, ...meta } = row;
    const before = p.bytes;
    p.add(id, vector);
    this.#partitionBytes += p.bytes - before;
    this.#rows.set(meta.key, { id, partition, meta });
    this.#keyOf.set(id, meta.key);
    this.#metaBytes += metaBytes(meta);
    while ((this.#rows.size > this.#maxRows || this.bytes > this.#maxBytes) && this.#rows.size > 0) {
      this.#removeKey(this.#rows.keys().next().value as string);
    }
  }

  async remove(key: string): Promise<boolean> {
    return this.#removeKey(key);
  }

  async purge(filter: PurgeFilter): Promise<number> {
    if ('key' in filter) return this.#removeKey(filter.key) ? 1 : 0;
    if ('all' in filter) {
      const count = this.#rows.size;
      for (const p of this.#partitions.values()) p.clear();
      this.#partitions.clear();
      this.#rows.clear();
      this.#keyOf.clear();
      this.#metaBytes = 0;
      this.#partitionBytes = 0;
      this.#sweep = undefined;
      return count;
    }
    const matches =
      'namespace' in filter
        ? (meta: RowMeta) => meta.namespace === filter.namespace
        : (meta: RowMeta) => meta.tags.includes(filter.tag);
    const doomed: string[] = [];
    for (const row of this.#rows.values()) if (matches(row.meta)) doomed.push(row.meta.key);
    for (const key of doomed) this.#removeKey(key);
    return doomed.length;
  }

  async dropPartition(partition: string): Promise<number> {
    const ids = this.#partitions.get(partition)?.ids() ?? [];
    for (const id of ids) {
      const key = this.#keyOf.get(id);
      if (key !== undefined) this.#removeKey(key);
    }
    return ids.length;
  }

  stats(): IndexStats {
    return { partitions: this.#partitions.size, rows: this.#rows.size, bytes: this.bytes };
  }

  /** Whether a partition has moved to its HNSW graph (for tests and the benchmark). */
  approximate(partition: string): boolean {
    return this.#partitions.get(partition)?.approximate ?? false;
  }

  get bytes(): number {
    return this.#metaBytes + this.#partitionBytes;
  }

  #evictOldestIn(name: string): void {
    for (const [key, row] of this.#rows) {
      if (row.partition === name) {
        this.#removeKey(key);
        return;
      }
    }
  }

  /** Looks at the next few rows in a round over all rows; those past their expiry go. */
  #sweepExpired(): void {
    const now = this.#now();
    for (let i = 0; i < SWEEP_PER_ADD; i++) {
      this.#sweep ??= this.#rows.values();
      const next = this.#sweep.next();
      if (next.done) {
        this.#sweep = undefined;
        return;
      }
      if (next.value.meta.expiresAt <= now) this.#removeKey(next.value.meta.key);
    }
  }

  #removeKey(key: string): boolean {
    const row = this.#rows.get(key);
    if (!row) return false;
    this.#rows.delete(key);
    this.#keyOf.delete(row.id);
    this.#metaBytes -= metaBytes(row.meta);
    const p = this.#partitions.get(row.partition);
    if (!p) return true;
    const before = p.bytes;
    p.remove(row.id);
    if (p.size === 0) {
      p.clear();
      this.#partitions.delete(row.partition);
      this.#partitionBytes -= before;
    } else {
      this.#partitionBytes += p.bytes - before;
    }
    return true;
  }
}

function metaBytes(meta: RowMeta): number {
  return ROW_OVERHEAD_BYTES + (meta.key.length + meta.namespace.length + meta.veto.length + meta.tags.join('').length) * 2;
}
