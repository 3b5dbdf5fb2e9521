import type { CacheEntry } from '../../cache/entry.js';
import { hitRatio, type Outcome, OutcomeHistory, type OutcomeCounts, type Series } from '../../stats/outcome-ring.js';
import { BUILTIN_PRICES_DATE, type PriceTable } from '../../stats/prices.js';
import { SavingsTally, type SavingsSnapshot } from '../../stats/savings.js';
import { TopCounts } from '../../stats/top-counts.js';
import type { Metrics } from '../metrics.js';
import { createSavingsMetrics } from './savings-metrics.js';

/**
 * What the request path reports, at the points where it already knows the outcome. One function
 * takes them all (StatsRecorder.record), so moving the request path means moving these calls only.
 */
export type OutcomeEvent =
  /** A response finished, with the outcome it was labelled with (ERROR for status >= 400). */
  | { type: 'response'; outcome: Outcome }
  /** An answer served from an entry finished; replayMs from the request's arrival to its end. */
  | { type: 'hit'; key: string; entry: CacheEntry; requestModel: string; replayMs: number }
  /**
   * A follower was answered whole by another caller's upstream call (in this process or on
   * another replica): it saved what a hit saves; waitMs from its arrival to its end.
   */
  | { type: 'coalesced'; entry: CacheEntry; requestModel: string; waitMs: number }
  /** A recorded answer was stored, or not (with the reason: status_429, incomplete_stream, ...). */
  | { type: 'write'; stored: true }
  | { type: 'write'; stored: false; reason: string }
  /** A cache store call failed or timed out (and was served as a miss). */
  | { type: 'store_error'; store: string; code: string };

export interface EntryStat {
  /** Enough of the key to find it with GET /admin/entries/...; the key holds no prompt and no credential. */
  keyPrefix: string;
  model: string;
  namespace: string;
  protocol: string;
  format: string;
  bytes: number;
  createdAt: number;
}

export interface RecorderSnapshot {
  startedAt: string;
  requests: { total: number; byOutcome: OutcomeCounts; hitRatio: number | null };
  series: { minute: Series; hour: Series };
  savings: SavingsSnapshot & { pricesDate: string; priceOverrides: number };
  storeWrites: { stored: number; skipped: number; skippedByReason: Record<string, number> };
  storeErrors: { lastFiveMinutes: number; lastHour: number; timeoutsLastFiveMinutes: number; timeoutsLastHour: number };
  top: {
    models: Array<{ name: string; hits: number }>;
    namespaces: Array<{ name: string; hits: number }>;
    entries: Array<EntryStat & { hits: number; ageSeconds: number }>;
  };
}

export interface StatsRecorder {
  record(event: OutcomeEvent): void;
  snapshot(): RecorderSnapshot;
}

const TOP_N = 10;
const HOUR_MS = 3_600_000;
const FIVE_MINUTES_MS = 300_000;
/** Store errors kept for "recent": one hour, and at most this many timestamps. */
const MAX_STORE_ERRORS = 10_000;

export function createStatsRecorder(options: {
  metrics: Metrics;
  prices: PriceTable;
  priceOverrides: number;
  now?: () => number;
}): StatsRecorder {
  const now = options.now ?? Date.now;
  const { metrics } = options;
  const prom = createSavingsMetrics(metrics.registry);
  // The series a hit adds to, bound once (their labels are fixed).
  const inputSaved = metrics.tokensSaved.bind('input');
  const outputSaved = metrics.tokensSaved.bind('output');
  const unpriced = prom.hitsWithoutEstimate.bind('unpriced');
  const usageUnknown = prom.hitsWithoutEstimate.bind('usage_unknown');
  const timeSaved = prom.timeSaved.bind();
  const startedAt = now();
  const history = new OutcomeHistory();
  const savings = new SavingsTally(options.prices);
  const models = new TopCounts();
  const namespaces = new TopCounts();
  const entries = new TopCounts<EntryStat>();
  let stored = 0;
  const skipped = new Map<string, number>();
  const storeErrors: Array<{ at: number; timeout: boolean }> = [];

  const countSavings = (entry: CacheEntry, requestModel: string, servedMs: number): void => {
    const saved = savings.hit({
      usage: entry.usage,
      models: [entry.model, requestModel],
      upstreamMs: entry.upstreamMs,
      replayMs: servedMs,
    });
    if (saved.tokens) {
      inputSaved.inc(saved.tokens.inputTokens);
      outputSaved.inc(saved.tokens.outputTokens);
      if (saved.usd !== undefined) prom.costSaved.inc(saved.usd, saved.priceKey ?? '');
      else unpriced.inc();
    } else {
      usageUnknown.inc();
    }
    if (saved.ms !== undefined) timeSaved.inc(saved.ms / 1000);
  };

  const record = (event: OutcomeEvent): void => {
    switch (event.type) {
      case 'response':
        history.record(event.outcome, now());
        return;
      case 'coalesced':
        countSavings(event.entry, event.requestModel, event.waitMs);
        return;
      case 'hit': {
        const { entry } = event;
        countSavings(entry, event.requestModel, event.replayMs);
        models.add(entry.model, undefined);
        namespaces.add(entry.namespace, undefined);
        entries.addFrom(event.key, event, entryStat);
        return;
      }
      case 'write':
        if (event.stored) {
          stored++;
        } else {
          skipped.set(event.reason, (skipped.get(event.reason) ?? 0) + 1);
          prom.writesSkipped.inc(1, event.reason);
        }
        return;
      case 'store_error': {
        const at = now();
        storeErrors.push({ at, timeout: event.code === 'STORE_TIMEOUT' });
        while (storeErrors.length > MAX_STORE_ERRORS || (storeErrors[0] && storeErrors[0].at < at - HOUR_MS)) {
          storeErrors.shift();
        }
        return;
      }
    }
  };

  const snapshot = (): RecorderSnapshot => {
    const t = now();
    const total = Object.values(history.totals).reduce((a, b) => a + b, 0);
    const recent = (windowMs: number, timeoutsOnly: boolean) =>
      storeErrors.filter((e) => e.at >= t - windowMs && (!timeoutsOnly || e.timeout)).length;
    const skippedByReason = Object.fromEntries([...skipped.entries()].sort((a, b) => b[1] - a[1]));
    return {
      startedAt: new Date(startedAt).toISOString(),
      requests: { total, byOutcome: { ...history.totals }, hitRatio: hitRatio(history.totals) },
      series: { minute: history.minutes.series(t), hour: history.hours.series(t) },
      savings: { ...savings.snapshot(), pricesDate: BUILTIN_PRICES_DATE, priceOverrides: options.priceOverrides },
      storeWrites: {
        stored,
        skipped: [...skipped.values()].reduce((a, b) => a + b, 0),
        skippedByReason,
      },
      storeErrors: {
        lastFiveMinutes: recent(FIVE_MINUTES_MS, false),
        lastHour: recent(HOUR_MS, false),
        timeoutsLastFiveMinutes: recent(FIVE_MINUTES_MS, true),
        timeoutsLastHour: recent(HOUR_MS, true),
      },
      top: {
        models: models.top(TOP_N).map((m) => ({ name: m.name, hits: m.count })),
        namespaces: namespaces.top(TOP_N).map((m) => ({ name: m.name, hits: m.count })),
        entries: entries.top(TOP_N).map((e) => ({
          ...e.value,
          hits: e.count,
          ageSeconds: Math.max(0, Math.round((t - e.value.createdAt) / 1000)),
        })),
      },
    };
  };

  return { record, snapshot };
}

/** The top entries' row for a hit: the one kept while it describes the same entry, else a new one. */
function entryStat(hit: { key: string; entry: CacheEntry }, kept: EntryStat | undefined): EntryStat {
  const { entry } = hit;
  if (kept && kept.createdAt === entry.createdAt && kept.bytes === entry.body.byteLength && kept.model === entry.model) return kept;
  return {
    // The version prefix and 16 hex digits: plenty to tell entries apart and to find one.
    keyPrefix: hit.key.slice(0, hit.key.indexOf(':') + 17),
    model: entry.model,
    namespace: entry.namespace,
    protocol: entry.protocol,
    format: entry.format,
    bytes: entry.body.byteLength,
    createdAt: entry.createdAt,
  };
}

/** The outcome a finished response counts as on the dashboard. */
export function responseOutcome(cacheLabel: string, status: number): Outcome {
  if (status >= 400) return 'ERROR';
  switch (cacheLabel) {
    case 'HIT':
    case 'SEMANTIC-HIT':
    case 'COALESCED':
    case 'MISS':
    case 'REFRESH':
    case 'BYPASS':
      return cacheLabel;
    default:
      return 'ERROR';
  }
}
