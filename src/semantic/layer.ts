import { createHash } from 'node:crypto';
import type { RequestControls } from '../cache/controls.js';
import { type CacheEntry, expiresAt } from '../cache/entry.js';
import { deriveCacheKey, type KeyInput } from '../cache/key.js';
import type { PurgeFilter } from '../cache/store.js';
import type { Protocol, RequestInfo } from '../protocols/types.js';
import type { HitCheck } from '../replay/replay.js';
import { type ExactOnlyReason, semanticEligibility } from './eligibility.js';
import { endedNaturally } from './natural-stop.js';
import { effectiveThreshold, type SemanticConfig, semanticActive } from './options.js';
import type { RedisShare } from './redis-share.js';
import { type Embedder, SemanticError } from './types.js';
import { SemanticIndex, type IndexStats, type VectorIndex } from './vector-index.js';
import { vetoSignature } from './veto.js';

/** Counted by the gateway's metrics and the library's stats. */
export type SemanticLookupResult = 'hit' | 'miss' | 'shadow' | 'exact_only' | 'off' | 'error';

export interface SemanticEvents {
  lookup?(result: SemanticLookupResult, reason?: ExactOnlyReason): void;
  /** Shadow mode: an entry would have been served. */
  shadowMatch?(similarity: number): void;
  embedderError?(code: string): void;
  /** The embedder's circuit breaker opened, half-opened or closed (one call per change). */
  embedderBreaker?(state: 'closed' | 'open' | 'half-open'): void;
  indexed?(): void;
  shareError?(operation: string, err: Error): void;
}

/** One request as the semantic layer sees it: everything the exact key was made of, and the controls. */
export interface SemanticRequest {
  protocol: Protocol;
  request: RequestInfo;
  /** Exactly what the exact key was derived from: the partition is derived from the same input. */
  keyInput: KeyInput;
  controls: Pick<RequestControls, 'semantic' | 'semanticThreshold'>;
}

/** Prepared once per request; opaque to callers. */
export interface SemanticQuery {
  readonly eligible: boolean;
  readonly reason: ExactOnlyReason | undefined;
  readonly text: string;
  readonly skipLookup: boolean;
  readonly threshold: number;
  readonly namespace: string;
  readonly fingerprint: string;
  readonly protocol: Protocol;
  vector?: Promise<Float32Array> | undefined;
  partition?: string | undefined;
}

export type SemanticOutcome =
  | { kind: 'hit'; key: string; entry: CacheEntry; similarity: number; ageSeconds: number; ttlSeconds: number }
  | { kind: 'shadow'; similarity: number }
  | { kind: 'miss' };

export interface SemanticLayerOptions {
  config: SemanticConfig;
  embedder: Embedder;
  index?: VectorIndex;
  share?: RedisShare | undefined;
  events?: SemanticEvents;
}

/** Candidates examined per lookup: the best few, since the veto or a vanished entry can rule some out. */
const CANDIDATES = 4;

/**
 * Near-duplicate and paraphrase hits inside a hard partition. One instance serves every
 * request of a gateway or a ResponseCache: `prepare` on admission, `lookup` after an exact
 * miss, `record` after the exact cache stored an answer, `purge` beside the store's purge.
 */
export class SemanticLayer {
  readonly config: SemanticConfig;
  readonly threshold: number;
  readonly #embedder: Embedder;
  readonly #index: VectorIndex;
  readonly #share: RedisShare | undefined;
  readonly #events: SemanticEvents;
  /** key -> partition, for purging a key's row from Redis. Bounded by the index itself. */
  readonly #partitionOf = new Map<string, string>();

  constructor(options: SemanticLayerOptions) {
    this.config = options.config;
    this.threshold = effectiveThreshold(options.config);
    this.#embedder = options.embedder;
    this.#index =
      options.index ??
      new SemanticIndex({
        maxRows: options.config.maxRows,
        maxBytes: options.config.maxBytes,
        maxRowsPerPartition: options.config.maxRowsPerPartition,
      });
    this.#share = options.share;
    this.#events = options.events ?? {};
  }

  /** On (`enabled`, or `shadow`, which runs lookups without serving them). */
  get active(): boolean {
    return semanticActive(this.config);
  }

  get embedder(): Embedder {
    return this.#embedder;
  }

  /** Guards and partition for one request; undefined when the layer is off. */
  prepare(input: SemanticRequest): SemanticQuery | undefined {
    if (!semanticActive(this.config)) return undefined;
    const { keyInput, controls, protocol } = input;
    const verdict = semanticEligibility(protocol.name, keyInput.material, this.config.maxMessages);
    // A client may only ask for stricter matching than the operator set.
    const threshold = Math.max(this.threshold, controls.semanticThreshold ?? 0);
    const base = {
      skipLookup: controls.semantic === 'off',
      threshold,
      namespace: keyInput.namespace,
      protocol,
    };
    if (!verdict.eligible) {
      return { ...base, eligible: false, reason: verdict.reason, text: '', fingerprint: '' };
    }
    return {
      ...base,
      eligible: true,
      reason: undefined,
      text: verdict.text,
      // Everything the exact key covers, with the last user text replaced by a placeholder.
      fingerprint: deriveCacheKey({ ...keyInput, material: verdict.material }),
    };
  }

  /**
   * After an exact miss: the best stored answer whose embedded text is close enough and passes
   * the veto, read back through `readEntry` and accepted by `check` (fresh enough, able to
   * answer this request). Never throws: any failure is a miss.
   */
  async lookup(
    query: SemanticQuery,
    readEntry: (key: string) => Promise<CacheEntry | undefined>,
    check: (entry: CacheEntry) => HitCheck,
  ): Promise<SemanticOutcome> {
    if (!query.eligible) return this.#missWith('exact_only', query.reason);
    if (query.skipLookup) return this.#missWith('off');
    const started = Date.now();
    try {
      const vector = await this.#vectorOf(query);
      const partition = this.#partition(query, vector);
      if (this.#share) {
        const budget = Math.max(0, this.config.embeddingsTimeoutMs - (Date.now() - started));
        await withinBudget(this.#share.ensureLoaded(partition), budget);
      }
      const veto = this.#vetoOf(query.text);
      const matches = await this.#index.search(partition, vector, query.threshold, CANDIDATES);
      for (const match of matches) {
        if (match.meta.veto !== veto) continue;
        const entry = await readEntry(match.meta.key);
        if (!entry) {
          // Evicted, expired or purged from the exact cache: the row points at nothing.
          await this.#index.remove(match.meta.key);
          void this.#share?.forget(partition, match.meta.key).catch((e: Error) => this.#events.shareError?.('forget', e));
          continue;
        }
        const hit = check(entry);
        if (!hit.usable) continue;
        if (this.config.shadow) {
          this.#events.shadowMatch?.(match.similarity);
          this.#events.lookup?.('shadow');
          return { kind: 'shadow', similarity: match.similarity };
        }
        this.#events.lookup?.('hit');
        return { kind: 'hit', key: match.meta.key, entry, similarity: match.similarity, ...ages(hit) };
      }
      return this.#missWith('miss');
    } catch (err) {
      if (err instanceof SemanticError) this.#events.embedderError?.(err.code);
      return this.#missWith('error');
    }
  }

  /**
   * The exact cache stored `entry` under `key`: index it if the request was eligible and the
   * answer ended naturally. Never throws.
   */
  async record(query: SemanticQuery, key: string, entry: CacheEntry): Promise<void> {
    if (!query.eligible || !endedNaturally(query.protocol, entry)) return;
    try {
      const vector = await this.#vectorOf(query);
      const partition = this.#partition(query, vector);
      const row = {
        key,
        namespace: entry.namespace,
        tags: entry.tags,
        expiresAt: expiresAt(entry),
        veto: this.#vetoOf(query.text),
        vector,
      };
      await this.#index.add(partition, row);
      this.#rememberPartition(key, partition);
      this.#events.indexed?.();
      await this.#share?.publishAdd(partition, row).catch((err: Error) => this.#events.shareError?.('add', err));
    } catch (err) {
      if (err instanceof SemanticError) this.#events.embedderError?.(err.code);
    }
  }

  /** Beside every purge of the exact store: candidates for purged entries go too, on every replica. */
  async purge(filter: PurgeFilter): Promise<number> {
    const removed = await this.#index.purge(filter);
    const partition = 'key' in filter ? this.#partitionOf.get(filter.key) : undefined;
    if ('all' in filter) this.#partitionOf.clear();
    else if ('key' in filter) this.#partitionOf.delete(filter.key);
    await this.#share?.publishPurge(filter, partition).catch((err: Error) => this.#events.shareError?.('purge', err));
    return removed;
  }

  stats(): IndexStats {
    return this.#index.stats();
  }

  async close(): Promise<void> {
    await this.#share?.close();
    await this.#embedder.close?.();
  }

  #vetoOf(text: string): string {
    return vetoSignature(text, this.#embedder.vetoTerms?.(text));
  }

  #vectorOf(query: SemanticQuery): Promise<Float32Array> {
    query.vector ??= this.#embedder.embed(query.text);
    return query.vector;
  }

  /** The hard partition: fingerprint (tenant, protocol, upstream, namespace, model, everything but the text) and embedder identity. */
  #partition(query: SemanticQuery, vector: Float32Array): string {
    if (query.partition) return query.partition;
    const { type, model } = this.#embedder.identity;
    const partition = createHash('sha256')
      .update(`${query.fingerprint}\n${type}\n${model}\n${vector.length}`)
      .digest('base64url')
      .slice(0, 32);
    query.partition = partition;
    return partition;
  }

  #rememberPartition(key: string, partition: string): void {
    this.#partitionOf.delete(key);
    this.#partitionOf.set(key, partition);
    // Only for purging Redis rows by key; an old key forgotten here expires in Redis on its own.
    if (this.#partitionOf.size > this.config.maxRows) {
      this.#partitionOf.delete(this.#partitionOf.keys().next().value as string);
    }
  }

  #missWith(result: SemanticLookupResult, reason?: ExactOnlyReason): SemanticOutcome {
    this.#events.lookup?.(result, reason);
    return { kind: 'miss' };
  }
}

function ages(hit: HitCheck): { ageSeconds: number; ttlSeconds: number } {
  return hit.usable ? { ageSeconds: hit.ageSeconds, ttlSeconds: hit.ttlSeconds } : { ageSeconds: 0, ttlSeconds: 0 };
}

async function withinBudget(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
