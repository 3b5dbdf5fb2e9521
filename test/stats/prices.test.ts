import { describe, expect, it } from 'vitest';
import { BUILTIN_PRICES, BUILTIN_PRICES_DATE, costOf, createPriceTable } from '../../src/stats/prices.js';
import { SavingsTally } from '../../src/stats/savings.js';

describe('price table', () => {
  const table = createPriceTable();

  it('states the date its built-in prices were taken', () => {
    expect(BUILTIN_PRICES_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.builtinDate).toBe(BUILTIN_PRICES_DATE);
  });

  it('prices a built-in model by exact name and by its dated snapshots and aliases', () => {
    expect(table.lookup(['gpt-4o-mini'])).toMatchObject({ key: 'gpt-4o-mini', source: 'builtin' });
    expect(table.lookup(['gpt-4o-mini-2024-07-18'])?.key).toBe('gpt-4o-mini');
    expect(table.lookup(['gpt-4o-2024-08-06'])?.key).toBe('gpt-4o');
    expect(table.lookup(['claude-sonnet-4-20250514'])?.key).toBe('claude-sonnet-4');
    expect(table.lookup(['claude-sonnet-4-5-20250929'])?.key).toBe('claude-sonnet-4-5');
    expect(table.lookup(['claude-3-5-haiku-latest'])?.key).toBe('claude-3-5-haiku');
  });

  it('never gives a new model the price of an older one that shares its start', () => {
    expect(table.lookup(['claude-sonnet-4-6'])).toBeUndefined();
    expect(table.lookup(['gpt-4o-mini-tts'])).toBeUndefined();
    expect(table.lookup(['gpt-4.5-preview'])).toBeUndefined();
    expect(table.lookup(['my-own-model'])).toBeUndefined();
  });

  it('takes the first of several names that has a price (recorded model, then requested)', () => {
    expect(table.lookup(['unknown-snapshot', 'gpt-4o'])?.key).toBe('gpt-4o');
  });

  it('lets configured prices override the built-in table, by name or prefix, longest prefix first', () => {
    const custom = createPriceTable({
      'gpt-4o': { inputPerMTok: 1, outputPerMTok: 2 },
      'ft:gpt-4o-mini': { inputPerMTok: 0.3, outputPerMTok: 1.2 },
      'ft:': { inputPerMTok: 9, outputPerMTok: 9 },
      'claude-sonnet-4-6': { inputPerMTok: 3, outputPerMTok: 15 },
    });
    expect(custom.lookup(['gpt-4o'])).toMatchObject({ source: 'config', price: { inputPerMTok: 1 } });
    // A config key is a prefix: it wins over the built-in gpt-4o-mini too.
    expect(custom.lookup(['gpt-4o-mini'])?.source).toBe('config');
    expect(custom.lookup(['ft:gpt-4o-mini:acme:custom:abc123'])?.key).toBe('ft:gpt-4o-mini');
    expect(custom.lookup(['ft:other'])?.key).toBe('ft:');
    expect(custom.lookup(['claude-sonnet-4-6'])?.source).toBe('config');
    expect(custom.lookup(['claude-3-haiku'])).toMatchObject({ source: 'builtin' });
  });

  it('computes USD per million tokens', () => {
    const price = BUILTIN_PRICES['gpt-4o'];
    expect(price).toBeDefined();
    if (!price) return;
    expect(costOf(price, 1_000_000, 0)).toBeCloseTo(price.inputPerMTok, 12);
    expect(costOf(price, 2000, 500)).toBeCloseTo((2000 * price.inputPerMTok + 500 * price.outputPerMTok) / 1e6, 12);
  });
});

describe('savings tally', () => {
  it('counts tokens, money and time, and never estimates what it does not know', () => {
    const tally = new SavingsTally(createPriceTable({ m: { inputPerMTok: 10, outputPerMTok: 20 } }));
    tally.hit({ usage: { inputTokens: 100, outputTokens: 50 }, models: ['m'], upstreamMs: 900, replayMs: 4 });
    tally.hit({ usage: undefined, models: ['m'], upstreamMs: 300, replayMs: 2 });
    tally.hit({ usage: { inputTokens: 7, outputTokens: 3 }, models: ['not-priced'] });
    // Paced replay slower than the original: saves nothing, never negative time.
    tally.hit({ usage: { inputTokens: 1, outputTokens: 1 }, models: ['m'], upstreamMs: 100, replayMs: 250 });
    expect(tally.snapshot()).toEqual({
      hits: 4,
      tokens: { input: 108, output: 54 },
      usd: (101 * 10 + 51 * 20) / 1e6,
      usageUnknown: 1,
      unpriced: 1,
      timeSavedMs: 896 + 298,
      durationUnknown: 1,
    });
  });
});
