/**
 * The one home of every default the gateway and the library share, and of the schema pieces
 * that validate them, so `config.ts` and `lib/options.ts` cannot drift apart.
 */
export const DEFAULTS = {
  ttlSeconds: 3600,
  maxTtlSeconds: 7 * 24 * 3600,
  maxEntryBytes: 8 * 1024 * 1024,
  maxFollowers: 1000,
  completeOnDisconnect: false,
  namespace: 'default',
  /** Per-call bound of a store call (a Redis command, a custom store's get/set). */
  storeTimeoutMs: 50,
  /**
   * Bound of one admin call into a store (a purge, a page of entries): admin work is not live
   * traffic, so it gets minutes, not the request budget, and never feeds the circuit breaker.
   */
  adminTimeoutMs: 5 * 60_000,
  breakerFailureThreshold: 5,
  breakerResetAfterMs: 2000,
  limits: {
    idleTimeoutMs: 120_000,
    maxStreamDurationMs: 15 * 60_000,
    maxResponseBytes: 64 * 1024 * 1024,
  },
} as const;

export interface CallLimits {
  idleTimeoutMs: number;
  maxStreamDurationMs: number;
  maxResponseBytes: number;
}
