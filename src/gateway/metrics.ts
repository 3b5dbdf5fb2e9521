import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics.js';
import { registerEventLoopDelay } from './event-loop-metrics.js';

/** How a cacheable request was answered after its lookup: the labels of sluice_cache_lookup_outcomes_total. */
export const LOOKUP_OUTCOMES = ['HIT', 'SEMANTIC-HIT', 'COALESCED', 'MISS'] as const;
export type LookupOutcome = (typeof LOOKUP_OUTCOMES)[number];

/** All gateway metrics, on a registry of their own (never prom-client's global one). */
export function createMetrics() {
  const registry = new Registry();
  // prom-client's names already start with process_ / nodejs_: sluice_process_cpu_..., sluice_nodejs_...
  collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
  registerEventLoopDelay(registry, 'sluice_');
  const metrics = {
    registry,
    requests: new HotCounter({
      name: 'sluice_requests_total',
      help: 'Requests answered, by route, status and cache outcome',
      labelNames: ['route', 'status', 'cache'] as const,
      registers: [registry],
    }),
    upstreamTtfb: new HotHistogram({
      name: 'sluice_upstream_ttfb_seconds',
      help: 'Time from sending the upstream request to its response headers',
      labelNames: ['route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    upstreamDuration: new HotHistogram({
      name: 'sluice_upstream_duration_seconds',
      help: 'Time from sending the upstream request to the end of its body',
      labelNames: ['route'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    bytesStreamed: new HotCounter({
      name: 'sluice_bytes_streamed_total',
      help: 'Response body bytes sent to clients, by source (upstream or cache)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    abortedStreams: new Counter({
      name: 'sluice_aborted_streams_total',
      help: 'Upstream responses cut short, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    cacheLookups: new HotCounter({
      name: 'sluice_cache_lookups_total',
      help: 'Cache lookups by layer (l1, l2, none) and result (hit, miss, bypass, coalesced)',
      labelNames: ['layer', 'result'] as const,
      registers: [registry],
    }),
    lookupOutcomes: new HotCounter({
      name: 'sluice_cache_lookup_outcomes_total',
      help: 'Cache lookups by how they were answered (HIT, SEMANTIC-HIT, COALESCED, MISS); hit ratio = hits / all',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    cacheWrites: new HotCounter({
      name: 'sluice_cache_writes_total',
      help: 'Recorded answers, stored or skipped with the reason',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'sluice_cache_store_errors_total',
      help: 'Cache store errors and timeouts (each one was served as a miss or a skipped write)',
      labelNames: ['store', 'op'] as const,
      registers: [registry],
    }),
    tokensSaved: new HotCounter({
      name: 'sluice_cache_tokens_saved_total',
      help: 'Tokens answered from cache instead of upstream, from the recorded usage',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    logLinesDropped: new HotCounter({
      name: 'sluice_log_lines_dropped_total',
      help: 'Log lines dropped because the log destination stalled past its buffer bound',
      labelNames: [] as const,
      registers: [registry],
    }),
    cacheEntries: new Gauge({
      name: 'sluice_cache_entries',
      help: 'Entries in the in-memory L1',
      registers: [registry],
    }),
    cacheBytes: new Gauge({
      name: 'sluice_cache_bytes',
      help: 'Bytes held by the in-memory L1',
      registers: [registry],
    }),
    cacheDerivedBytes: new Gauge({
      name: 'sluice_cache_derived_bytes',
      help: 'Bytes held by forms derived on hits (assembled JSON, synthesized or usage-stripped streams); at most a quarter of cache.memoryMaxBytes',
      registers: [registry],
    }),
    semanticLookups: new Counter({
      name: 'sluice_semantic_lookups_total',
      help: 'Semantic lookups after an exact miss, by result (hit, miss, shadow, exact_only, off, error)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    semanticShadowMatches: new Counter({
      name: 'sluice_semantic_shadow_matches_total',
      help: 'Shadow mode: requests an entry would have answered semantically (nothing was served from it)',
      registers: [registry],
    }),
    semanticEmbedderErrors: new Counter({
      name: 'sluice_semantic_embedder_errors_total',
      help: 'Embedder errors and timeouts (each request was answered exact-only)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    semanticRows: new Gauge({
      name: 'sluice_semantic_index_rows',
      help: 'Rows in the in-process semantic index',
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'sluice_cache_breaker_open',
      help: '1 while the circuit breaker of a store is open or half-open',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
  };
  /** A response finished: the hot path's one call for sluice_requests_total. */
  const countRequest = (route: string, status: number, cache: string) =>
    metrics.requests.inc(1, route, statusLabel(status), cache);
  // Every outcome is exported from the start, so a ratio over them is defined before the first hit.
  for (const outcome of LOOKUP_OUTCOMES) metrics.lookupOutcomes.counter.inc({ outcome }, 0);
  /** Body bytes sent, by where they came from: bound once (every write of every answer adds to one). */
  const bytesSent = { cache: metrics.bytesStreamed.bind('cache'), upstream: metrics.bytesStreamed.bind('upstream') };
  return { ...metrics, countRequest, bytesSent };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Status codes as label values, made once each (String(n) per response would build a new string to hash). */
const STATUS_LABELS = new Map<number, string>();
function statusLabel(status: number): string {
  let label = STATUS_LABELS.get(status);
  if (label === undefined) {
    label = String(status);
    // Statuses are three digits (node:http refuses others), so this holds at most 900 strings.
    STATUS_LABELS.set(status, label);
  }
  return label;
}
