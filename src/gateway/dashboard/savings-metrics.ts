import type { Registry } from 'prom-client';
import { HotCounter } from '../hot-metrics.js';

/** What /metrics adds for the dashboard's figures; fed only by the outcome recorder. */
export function createSavingsMetrics(registry: Registry) {
  return {
    timeSaved: new HotCounter({
      name: 'sluice_cache_time_saved_seconds_total',
      labelNames: [] as const,
      help: 'Recorded upstream duration of answers served from cache, minus the time serving them took',
      registers: [registry],
    }),
    costSaved: new HotCounter({
      name: 'sluice_cache_cost_saved_usd_total',
      help: 'Estimated USD not spent thanks to hits, from the price table, by the price-table key that matched',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    hitsWithoutEstimate: new HotCounter({
      name: 'sluice_cache_hits_unestimated_total',
      help: 'Hits whose savings could not be estimated: usage_unknown (entry without usage) or unpriced (model without a price)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    writesSkipped: new HotCounter({
      name: 'sluice_cache_writes_skipped_total',
      help: 'Answers not stored, by reason (status_429, incomplete_stream, response_too_large, ...)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type SavingsMetrics = ReturnType<typeof createSavingsMetrics>;
