import type { EngineHooks, LookupResult } from '../engine/hooks.js';
import type { StatsRecorder } from './dashboard/recorder.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

const LOOKUP_OUTCOME: Partial<Record<LookupResult, string>> = { hit: 'HIT', coalesced: 'COALESCED', miss: 'MISS' };

/** The engine's reports as Prometheus series and log lines. */
export function gatewayHooks(metrics: Metrics, logger: Logger): EngineHooks {
  return {
    onLookup: (layer, result, call) => {
      metrics.cacheLookups.inc(1, layer, result);
      // The hit ratio's denominator: calls that looked (refreshes and bypasses did not).
      if (!call.read) return;
      const outcome = LOOKUP_OUTCOME[result];
      if (outcome) metrics.lookupOutcomes.inc(1, outcome === 'HIT' && layer.startsWith('semantic') ? 'SEMANTIC-HIT' : outcome);
    },
    // Tokens, money and time saved are counted by the dashboard's recorder once a hit is delivered.
    onWrite: (result) => metrics.cacheWrites.inc(1, result),
    onUpstreamHeaders: (seconds, call) => metrics.upstreamTtfb.observe(seconds, call.route),
    onUpstreamEnd: (seconds, call) => metrics.upstreamDuration.observe(seconds, call.route),
    onFailure: (failure, call) => {
      metrics.abortedStreams.inc({ reason: failure.code });
      if (failure.code !== 'client_disconnect') {
        logger.warn({ requestId: call.requestId, route: call.route, code: failure.code }, failure.message);
      }
    },
    onNotStored: (reason, call) =>
      logger.warn({ requestId: call.requestId, route: call.route, reason }, 'answer not stored'),
  };
}

/**
 * The dashboard's write figures: stored against not stored by reason, counting only answers that
 * were meant to be stored (a bypass or a read-only call is not a skipped write).
 */
export function dashboardHooks(stats: StatsRecorder): EngineHooks {
  return {
    onWrite: (result, call) => {
      if (result === 'stored') stats.record({ type: 'write', stored: true });
      else if (result === 'skipped_by_store') stats.record({ type: 'write', stored: false, reason: 'refused_by_store' });
      else if (call.write) stats.record({ type: 'write', stored: false, reason: result.replace(/^skipped:/, '') });
    },
  };
}
