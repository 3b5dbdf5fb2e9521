import type { LookupResult } from '../engine/hooks.js';
import type { Outcome, OutcomeSink } from '../engine/outcome.js';
import { responseOutcome, type StatsRecorder } from './dashboard/recorder.js';
import type { Metrics } from './metrics.js';
import type { UpstreamTally } from './upstream-tally.js';

/**
 * The gateway's sinks of the outcome record (engine/outcome.ts): each turns a closed record into
 * its own figures. The list is built in server.ts; a new consumer is one more entry there.
 */

const LOOKUP_OUTCOME: Partial<Record<LookupResult, string>> = { hit: 'HIT', coalesced: 'COALESCED', miss: 'MISS' };

/** Prometheus: requests, lookups, upstream times, bytes sent. */
export function metricsSink(metrics: Metrics): OutcomeSink {
  return (o) => {
    if (o.lookup !== undefined && o.layer !== undefined) {
      metrics.cacheLookups.inc(1, o.layer, o.lookup);
      // The hit ratio's denominator: calls that looked (refreshes and bypasses did not).
      const outcome = o.read ? LOOKUP_OUTCOME[o.lookup] : undefined;
      if (outcome) metrics.lookupOutcomes.inc(1, outcome === 'HIT' && o.cache === 'SEMANTIC-HIT' ? 'SEMANTIC-HIT' : outcome);
    }
    if (o.route !== undefined) {
      if (o.upstreamHeadersMs !== undefined) metrics.upstreamTtfb.observe(o.upstreamHeadersMs / 1000, o.route);
      if (o.upstreamMs !== undefined) metrics.upstreamDuration.observe(o.upstreamMs / 1000, o.route);
    }
    if (o.source !== undefined && o.bytes > 0) metrics.bytesSent[o.source].inc(o.bytes);
    // A labelled response (a protocol route's or a pass-through's) counts once, if it was delivered.
    if (o.route !== undefined && o.cache !== undefined && o.completed) metrics.countRequest(o.route, o.status, o.cache);
  };
}

/**
 * The dashboard's outcome series and savings (which also feed the savings series of /metrics and
 * /admin/stats): a hit saved tokens, money and time only if its answer was delivered.
 */
export function dashboardSink(stats: StatsRecorder): OutcomeSink {
  return (o) => {
    if (!o.completed || o.route === undefined || o.cache === undefined) return;
    stats.record({ type: 'response', outcome: responseOutcome(o.cache, o.status) });
    if (o.entry && o.key !== undefined) {
      stats.record({ type: 'hit', key: o.key, entry: o.entry, requestModel: o.model ?? '', replayMs: o.durationMs });
    }
    // A follower answered whole by a shared call saved the call it did not make.
    if (o.shared) stats.record({ type: 'coalesced', entry: o.shared, requestModel: o.model ?? '', waitMs: o.durationMs });
  };
}

/** Protocol-route responses by upstream (sluice_upstream_requests_total, /admin/stats `upstreams`), once delivered. */
export function upstreamSink(tally: UpstreamTally): OutcomeSink {
  return (o) => {
    if (!o.completed || o.upstream === undefined || o.cache === undefined) return;
    tally.count(o.upstream, responseOutcome(o.cache, o.status));
  };
}

/** Lookups by `layer:result` (l1:hit, none:miss...) for /admin/stats. */
export class LookupTally {
  readonly #counts = new Map<string, Map<LookupResult, number>>();
  readonly sink: OutcomeSink = (o: Outcome) => {
    if (o.lookup === undefined || o.layer === undefined) return;
    let results = this.#counts.get(o.layer);
    if (!results) {
      results = new Map();
      this.#counts.set(o.layer, results);
    }
    results.set(o.lookup, (results.get(o.lookup) ?? 0) + 1);
  };

  get lookups(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [layer, results] of this.#counts) for (const [result, n] of results) out[`${layer}:${result}`] = n;
    return out;
  }
}
