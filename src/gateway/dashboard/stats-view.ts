import type { GatewayContext } from '../context.js';
import type { UpstreamCounts } from '../upstream-tally.js';
import type { RecorderSnapshot } from './recorder.js';

export interface StoresView {
  l1: { entries: number; bytes: number; maxBytes: number };
  /** null when no Redis is configured. */
  l2: {
    /** Connected, and the breaker lets calls through (closed); otherwise lookups are misses. */
    reachable: boolean;
    connected: boolean;
    breaker: string;
    errorsLastFiveMinutes: number;
    errorsLastHour: number;
    timeoutsLastFiveMinutes: number;
    timeoutsLastHour: number;
  } | null;
}

export type DashboardStats = RecorderSnapshot & { stores: StoresView; now: string; upstreams: UpstreamCounts[] };

/** The dashboard's figures: everything the recorder counted, plus the stores' state right now. */
export function dashboardStats(ctx: GatewayContext): DashboardStats {
  const snapshot = ctx.stats.snapshot();
  const l1 = ctx.l1.stats();
  const errors = snapshot.storeErrors;
  return {
    now: new Date().toISOString(),
    ...snapshot,
    upstreams: ctx.upstreamTally.snapshot(),
    stores: {
      l1: { entries: l1.entries, bytes: l1.bytes, maxBytes: ctx.config.cache.memoryMaxBytes },
      l2: ctx.l2
        ? {
            reachable: ctx.l2.state === 'closed' && (ctx.redis?.connected ?? false),
            connected: ctx.redis?.connected ?? false,
            breaker: ctx.l2.state,
            errorsLastFiveMinutes: errors.lastFiveMinutes,
            errorsLastHour: errors.lastHour,
            timeoutsLastFiveMinutes: errors.timeoutsLastFiveMinutes,
            timeoutsLastHour: errors.timeoutsLastHour,
          }
        : null,
    },
  };
}
