import type { Usage } from '../protocols/types.js';
import type { ModelPrice } from '../stats/prices.js';
import { createPriceTable } from '../stats/prices.js';
import { SavingsTally } from '../stats/savings.js';

export interface CacheStats {
  /** Calls answered from the cache (semantic hits included). */
  hits: number;
  /** Of the hits, those the semantic layer found (a near-duplicate or paraphrase). */
  semanticHits: number;
  /** Shadow mode: misses a semantic entry would have answered. */
  semanticShadowMatches: number;
  /** Embedder errors and timeouts (each call went exact-only). */
  semanticErrors: number;
  /** Calls that looked and went upstream (or to the producer function). */
  misses: number;
  /** Calls that joined an identical call already in flight instead of making their own. */
  coalesced: number;
  /** Calls that did not use the cache at all (no-store, cache off, not cacheable). */
  bypassed: number;
  /** Tokens the hits did not spend, from the usage recorded with each entry. */
  tokensSaved: { input: number; output: number };
  /** USD, from `prices` over the built-in table; hits on models without a price add 0 (see `unpriced`). */
  estimatedCostSaved: number;
  /** Hits on entries recorded without usage: counted here, never estimated. */
  usageUnknown: number;
  /** Hits with usage on a model no price matched: tokens counted, cost not. */
  unpriced: number;
}

/** Counters of one ResponseCache; savings are counted by the shared SavingsTally, as in the gateway. */
export class StatsCounter {
  #semanticHits = 0;
  #shadowMatches = 0;
  #semanticErrors = 0;
  #misses = 0;
  #coalesced = 0;
  #bypassed = 0;
  readonly #savings: SavingsTally;

  constructor(prices: Record<string, ModelPrice>) {
    this.#savings = new SavingsTally(createPriceTable(prices));
  }

  /** `models`: the entry's recorded model first, then the requested one (a dated snapshot vs its alias). */
  hit(usage: Usage | undefined, models: readonly string[]): void {
    this.#savings.hit({ usage, models });
  }

  semanticHit(usage: Usage | undefined, models: readonly string[]): void {
    this.#semanticHits++;
    this.hit(usage, models);
  }

  shadowMatch(): void {
    this.#shadowMatches++;
  }

  semanticError(): void {
    this.#semanticErrors++;
  }

  miss(): void {
    this.#misses++;
  }

  coalesce(): void {
    this.#coalesced++;
  }

  bypass(): void {
    this.#bypassed++;
  }

  snapshot(): CacheStats {
    const saved = this.#savings.snapshot();
    return {
      hits: saved.hits,
      semanticHits: this.#semanticHits,
      semanticShadowMatches: this.#shadowMatches,
      semanticErrors: this.#semanticErrors,
      misses: this.#misses,
      coalesced: this.#coalesced,
      bypassed: this.#bypassed,
      tokensSaved: saved.tokens,
      estimatedCostSaved: saved.usd,
      usageUnknown: saved.usageUnknown,
      unpriced: saved.unpriced,
    };
  }
}
