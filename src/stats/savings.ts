import type { Usage } from '../protocols/types.js';
import { costOf, type PriceTable } from './prices.js';

/** One answer served from the cache, as far as savings go. */
export interface ServedHit {
  usage: Usage | undefined;
  /** The entry's recorded model first, then the requested one (a dated snapshot vs its alias). */
  models: readonly string[];
  /** How long the upstream took to produce the answer when it was recorded, if known. */
  upstreamMs?: number | undefined;
  /** How long serving it from the cache took. */
  replayMs?: number | undefined;
}

/** What one hit saved; absent parts were not known and were not guessed. */
export interface HitSavings {
  tokens: Usage | undefined;
  usd: number | undefined;
  /** The price-table key that priced it (a bounded set, unlike model names). */
  priceKey: string | undefined;
  ms: number | undefined;
}

export interface SavingsSnapshot {
  hits: number;
  tokens: { input: number; output: number };
  /** Estimated from the price table; only hits with usage on a priced model add to it. */
  usd: number;
  /** Hits on entries recorded without usage: neither tokens nor money counted for them. */
  usageUnknown: number;
  /** Hits with usage on a model without a price: tokens counted, money not. */
  unpriced: number;
  /** Recorded upstream duration minus replay time, summed (a hit slower than its upstream adds 0). */
  timeSavedMs: number;
  /** Hits on entries recorded without their upstream duration (older entries). */
  durationUnknown: number;
}

/**
 * The one place that turns hits into tokens, money and time saved: used by the gateway's
 * dashboard and by the library's `stats()`, so the two count the same way.
 */
export class SavingsTally {
  #hits = 0;
  #input = 0;
  #output = 0;
  #usd = 0;
  #usageUnknown = 0;
  #unpriced = 0;
  #ms = 0;
  #durationUnknown = 0;

  constructor(readonly prices: PriceTable) {}

  hit(served: ServedHit): HitSavings {
    this.#hits++;
    const saved: HitSavings = { tokens: served.usage, usd: undefined, priceKey: undefined, ms: undefined };
    if (!served.usage) {
      this.#usageUnknown++;
    } else {
      this.#input += served.usage.inputTokens;
      this.#output += served.usage.outputTokens;
      const match = this.prices.lookup(served.models);
      if (match) {
        saved.usd = costOf(match.price, served.usage.inputTokens, served.usage.outputTokens);
        saved.priceKey = match.key;
        this.#usd += saved.usd;
      } else {
        this.#unpriced++;
      }
    }
    if (served.upstreamMs === undefined || served.replayMs === undefined) {
      this.#durationUnknown++;
    } else {
      // A paced (realtime) replay can take as long as the original; it saved nothing, not less than nothing.
      saved.ms = Math.max(0, served.upstreamMs - served.replayMs);
      this.#ms += saved.ms;
    }
    return saved;
  }

  snapshot(): SavingsSnapshot {
    return {
      hits: this.#hits,
      tokens: { input: this.#input, output: this.#output },
      usd: this.#usd,
      usageUnknown: this.#usageUnknown,
      unpriced: this.#unpriced,
      timeSavedMs: this.#ms,
      durationUnknown: this.#durationUnknown,
    };
  }
}
