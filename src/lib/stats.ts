import type { Outcome, OutcomeSink } from '../engine/outcome.js';
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

/**
 * Counters of one ResponseCache, the library's sink of the outcome record (engine/outcome.ts): each
 * call is counted once, when it is over. Savings are counted by the shared SavingsTally, as in the
 * gateway, for hits whose answer was delivered whole.
 */
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

  readonly sink: OutcomeSink = (o: Outcome) => {
    const result = o.lookup;
    if (result === 'miss' || result === 'refresh') this.#misses++;
    else if (result === 'bypass') this.#bypassed++;
    else if (result === 'coalesced') this.#coalesced++;
    else if (result === 'hit' && o.entry && o.completed) {
      if (o.layer === 'semantic') this.#semanticHits++;
      // Prices: the entry's recorded model first, then the requested one (a dated snapshot vs its alias).
      this.#savings.hit({ usage: o.entry.usage, models: [o.entry.model, o.model ?? ''] });
    }
  };

  shadowMatch(): void {
    this.#shadowMatches++;
  }

  semanticError(): void {
    this.#semanticErrors++;
  }

  /** A call the adapter passed by before the engine (an invalid request: the upstream's to refuse). */
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
