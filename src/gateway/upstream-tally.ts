import type { Registry } from 'prom-client';
import { HotCounter } from './hot-metrics.js';

/**
 * Requests on protocol routes, by upstream (a named upstream's name, else the default upstream's
 * family: openai, anthropic, bedrock, gemini) and outcome: `sluice_upstream_requests_total` in
 * /metrics, and `upstreams` in /admin/stats and on the dashboard. Bounded: the label values are
 * the configured upstreams and the outcomes Sluice names.
 */

export interface UpstreamCounts {
  name: string;
  requests: number;
  hits: number;
  misses: number;
  errors: number;
}

export class UpstreamTally {
  readonly #counter: HotCounter<'upstream' | 'outcome'>;
  readonly #counts = new Map<string, UpstreamCounts>();

  constructor(registry: Registry) {
    this.#counter = new HotCounter({
      name: 'sluice_upstream_requests_total',
      help: 'Requests on protocol routes by upstream (named upstream or default family) and outcome (HIT, MISS, ..., ERROR)',
      labelNames: ['upstream', 'outcome'] as const,
      registers: [registry],
    });
  }

  /** One finished response; `outcome` as the dashboard counts it (HIT, SEMANTIC-HIT, MISS, ..., ERROR). */
  count(upstream: string, outcome: string): void {
    this.#counter.inc(1, upstream, outcome);
    let counts = this.#counts.get(upstream);
    if (!counts) {
      counts = { name: upstream, requests: 0, hits: 0, misses: 0, errors: 0 };
      this.#counts.set(upstream, counts);
    }
    counts.requests++;
    if (outcome === 'HIT' || outcome === 'SEMANTIC-HIT') counts.hits++;
    else if (outcome === 'ERROR') counts.errors++;
    else if (outcome !== 'BYPASS') counts.misses++;
  }

  snapshot(): UpstreamCounts[] {
    return [...this.#counts.values()].map((c) => ({ ...c })).sort((a, b) => b.requests - a.requests || a.name.localeCompare(b.name));
  }
}
