import type { EngineHooks } from '../engine/hooks.js';
import type { StatsRecorder } from './dashboard/recorder.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * The engine's flight reports as Prometheus series and log lines (how each request was answered
 * goes through its outcome record instead: outcome-sinks.ts).
 */
export function gatewayHooks(metrics: Metrics, logger: Logger): EngineHooks {
  return {
    onWrite: (result) => metrics.cacheWrites.inc(1, result),
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
