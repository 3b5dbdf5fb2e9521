import type { CacheEntry } from '../cache/entry.js';
import type { EngineHooks, LookupResult } from '../engine/hooks.js';
import type { RequestInfo } from '../protocols/types.js';
import type { ModelPrice } from './options.js';

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
  /** USD, from the price table; hits on models without a price add 0. */
  estimatedCostSaved: number;
}

/** Counters of one ResponseCache, fed by the engine's hooks: each call is counted once. */
export class StatsCounter implements EngineHooks {
  #hits = 0;
  #semanticHits = 0;
  #shadowMatches = 0;
  #semanticErrors = 0;
  #misses = 0;
  #coalesced = 0;
  #bypassed = 0;
  #input = 0;
  #output = 0;
  #cost = 0;

  constructor(private readonly prices: Record<string, ModelPrice>) {}

  onLookup(_layer: string, result: LookupResult): void {
    if (result === 'miss' || result === 'refresh') this.#misses++;
    else if (result === 'bypass') this.#bypassed++;
    else if (result === 'coalesced') this.#coalesced++;
  }

  /** Prices: the entry's recorded model first, then the requested one (a dated snapshot vs its alias). */
  onHit(entry: CacheEntry, request: RequestInfo, layer: string): void {
    this.#hits++;
    if (layer === 'semantic') this.#semanticHits++;
    const usage = entry.usage;
    if (!usage) return;
    this.#input += usage.inputTokens;
    this.#output += usage.outputTokens;
    const price = [entry.model, request.model].map((m) => this.prices[m]).find((p) => p !== undefined);
    if (price) {
      this.#cost += (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1e6;
    }
  }

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
    return {
      hits: this.#hits,
      semanticHits: this.#semanticHits,
      semanticShadowMatches: this.#shadowMatches,
      semanticErrors: this.#semanticErrors,
      misses: this.#misses,
      coalesced: this.#coalesced,
      bypassed: this.#bypassed,
      tokensSaved: { input: this.#input, output: this.#output },
      estimatedCostSaved: this.#cost,
    };
  }
}
