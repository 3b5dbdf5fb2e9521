import { z } from 'zod';

/**
 * Token prices, for the money the cache saved. One table for the gateway and the library:
 * a dated built-in table of common OpenAI and Anthropic models, overridden by the operator's
 * `prices` (config file or ResponseCache option).
 */

/** USD per million tokens, as providers publish them. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** The shape of one price, for the config file and the library options alike. */
export const modelPriceSchema = z
  .object({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() })
  .strict();

/** `prices`: model name or prefix → price. */
export const priceTableSchema = z.record(z.string().min(1), modelPriceSchema);

/**
 * When the built-in prices were copied from the providers' public price pages (standard tier,
 * list input price: no cached-input, batch or long-context rates). Prices change: override
 * them with `prices` rather than trusting this table past its date.
 */
export const BUILTIN_PRICES_DATE = '2025-11-25';

const p = (inputPerMTok: number, outputPerMTok: number): ModelPrice => ({ inputPerMTok, outputPerMTok });

export const BUILTIN_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  // OpenAI
  'gpt-5.1': p(1.25, 10),
  'gpt-5': p(1.25, 10),
  'gpt-5-mini': p(0.25, 2),
  'gpt-5-nano': p(0.05, 0.4),
  'gpt-4.1': p(2, 8),
  'gpt-4.1-mini': p(0.4, 1.6),
  'gpt-4.1-nano': p(0.1, 0.4),
  'gpt-4o': p(2.5, 10),
  'gpt-4o-mini': p(0.15, 0.6),
  'gpt-4-turbo': p(10, 30),
  'gpt-4': p(30, 60),
  'gpt-3.5-turbo': p(0.5, 1.5),
  'gpt-3.5-turbo-instruct': p(1.5, 2),
  o1: p(15, 60),
  'o1-mini': p(1.1, 4.4),
  'o1-pro': p(150, 600),
  o3: p(2, 8),
  'o3-mini': p(1.1, 4.4),
  'o3-pro': p(20, 80),
  'o4-mini': p(1.1, 4.4),
  'text-embedding-3-small': p(0.02, 0),
  'text-embedding-3-large': p(0.13, 0),
  'text-embedding-ada-002': p(0.1, 0),
  // Anthropic
  'claude-opus-4-5': p(5, 25),
  'claude-opus-4-1': p(15, 75),
  'claude-opus-4': p(15, 75),
  'claude-sonnet-4-5': p(3, 15),
  'claude-sonnet-4': p(3, 15),
  'claude-haiku-4-5': p(1, 5),
  'claude-3-7-sonnet': p(3, 15),
  'claude-3-5-sonnet': p(3, 15),
  'claude-3-5-haiku': p(0.8, 4),
  'claude-3-opus': p(15, 75),
  'claude-3-haiku': p(0.25, 1.25),
});

/**
 * A built-in name also prices its dated snapshots and aliases (gpt-4o-2024-08-06,
 * claude-sonnet-4-20250514, claude-3-5-haiku-latest), but never a different model that merely
 * shares its start (claude-sonnet-4-6 is not claude-sonnet-4): a new model stays unpriced,
 * shown as such, instead of silently getting an old model's price.
 */
const SNAPSHOT_SUFFIX = /^(?:-\d{4}-?\d{2}-?\d{2}|-latest|-preview)$/;

export type PriceSource = 'config' | 'builtin';

export interface PriceMatch {
  price: ModelPrice;
  source: PriceSource;
  /** The table key that matched. */
  key: string;
}

export interface PriceTable {
  /** The first of `models` with a price (the entry's recorded model, then the requested one). */
  lookup(models: readonly string[]): PriceMatch | undefined;
  readonly builtinDate: string;
}

/**
 * Operator prices first: a key is a model name or a prefix of one (the longest key wins), so
 * `"ft:gpt-4o-mini"` prices every fine-tune of it. Then the built-in table, by exact name or
 * snapshot suffix.
 */
export function createPriceTable(overrides: Readonly<Record<string, ModelPrice>> = {}): PriceTable {
  const configKeys = Object.keys(overrides).sort((a, b) => b.length - a.length);
  const builtinKeys = Object.keys(BUILTIN_PRICES);
  const memo = new Map<string, PriceMatch | null>();
  const one = (model: string): PriceMatch | undefined => {
    const known = memo.get(model);
    if (known !== undefined) return known ?? undefined;
    let match: PriceMatch | undefined;
    const configKey = configKeys.find((key) => model.startsWith(key));
    if (configKey !== undefined) {
      match = { price: overrides[configKey] as ModelPrice, source: 'config', key: configKey };
    } else {
      const builtinKey = builtinKeys.find(
        (key) => model === key || (model.startsWith(key) && SNAPSHOT_SUFFIX.test(model.slice(key.length))),
      );
      if (builtinKey !== undefined) {
        match = { price: BUILTIN_PRICES[builtinKey] as ModelPrice, source: 'builtin', key: builtinKey };
      }
    }
    // Model names come from clients: bound the memo instead of letting it grow with them.
    if (memo.size >= 1024) memo.clear();
    memo.set(model, match ?? null);
    return match;
  };
  return {
    builtinDate: BUILTIN_PRICES_DATE,
    lookup: (models) => {
      for (const model of models) {
        const match = one(model);
        if (match) return match;
      }
      return undefined;
    },
  };
}

/** USD for a number of tokens at a price. */
export function costOf(price: ModelPrice, inputTokens: number, outputTokens: number): number {
  return (inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1e6;
}
