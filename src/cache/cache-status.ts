import type { CachePlan } from './controls.js';

/**
 * The outcome headers every answer carries, in one place for the gateway and the library:
 * `x-sluice-cache` and RFC 9211 `Cache-Status`.
 */
export type CacheOutcome = CachePlan['forwardOutcome'] | 'HIT' | 'SEMANTIC-HIT' | 'COALESCED';

export interface OutcomeHeaders {
  'x-sluice-cache': CacheOutcome;
  'cache-status': string;
  age?: string;
  'x-sluice-similarity'?: string;
  /** Room for what a lookup step adds (x-sluice-similarity on a semantic hit). */
  [header: string]: string | undefined;
}

const FORWARD_STATUS: Record<CachePlan['forwardOutcome'], string> = {
  MISS: 'sluice; fwd=miss',
  REFRESH: 'sluice; fwd=request',
  BYPASS: 'sluice; fwd=bypass',
};

/** An answer that went upstream; `stale` when an entry existed but was too old for the client's max-age. */
export function forwardHeaders(outcome: CachePlan['forwardOutcome'], stale = false): OutcomeHeaders {
  return { 'x-sluice-cache': outcome, 'cache-status': stale ? 'sluice; fwd=stale' : FORWARD_STATUS[outcome] };
}

export function hitHeaders(ageSeconds: number, ttlSeconds: number): OutcomeHeaders {
  return { 'x-sluice-cache': 'HIT', 'cache-status': `sluice; hit; ttl=${ttlSeconds}`, age: String(ageSeconds) };
}

/**
 * `x-sluice-key`: the entry key of a cacheable answer (a hash: no prompt, no credential), so an
 * operator can inspect or purge that entry. A bypassed request has no key and gets no header.
 */
export function keyHeader(key: string): { 'x-sluice-key'?: string } {
  return key === '' ? {} : { 'x-sluice-key': key };
}

/** A hit found by the semantic layer: its similarity, 4 decimals. */
export function semanticHitHeaders(similarity: number, ageSeconds: number): OutcomeHeaders {
  return {
    'x-sluice-cache': 'SEMANTIC-HIT',
    'cache-status': 'sluice; hit; detail=semantic',
    age: String(ageSeconds),
    'x-sluice-similarity': similarity.toFixed(4),
  };
}

/** Shadow mode: what a semantic hit would have had, on an answer that went upstream anyway. */
export function shadowHeaders(similarity: number | undefined): Record<string, string> {
  return similarity === undefined ? {} : { 'x-sluice-semantic-shadow': similarity.toFixed(4) };
}

export const COALESCED_HEADERS: OutcomeHeaders = {
  'x-sluice-cache': 'COALESCED',
  'cache-status': 'sluice; fwd=miss; collapsed',
};
