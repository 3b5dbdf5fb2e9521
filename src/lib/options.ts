import { z } from 'zod';
// NAME_PATTERN: the gateway's rule for x-sluice-namespace / x-sluice-tags, so names travel between them.
import { type CacheMode, NAME_PATTERN } from '../cache/controls.js';
import type { CacheStore } from '../cache/store.js';
import { type CallLimits, DEFAULTS } from '../defaults.js';
import { cacheShape, callLimitsShape, describeIssues, type ReplayPacing } from '../options-schema.js';
import { type SemanticConfig, type SemanticConfigInput, semanticSchema } from '../semantic/options.js';
import { type ModelPrice, priceTableSchema } from '../stats/prices.js';
import { LibraryError } from './errors.js';

export type { ModelPrice };

/** Options of a ResponseCache. Names, defaults and rules are the gateway's (`cache.*`, `limits.*`). */
export interface ResponseCacheOptions {
  /** Where entries live. Default: a new MemoryStore. Any store is reached fail-open (timeout + breaker). */
  store?: CacheStore;
  /** Bound on each store call; past it a read is a miss and a write is skipped. Default 50 ms. */
  storeTimeoutMs?: number;
  /** Lifetime of a new entry. Default 3600. */
  ttlSeconds?: number;
  /** Upper bound of any per-call ttl (and of ttlSeconds). Default 7 days. */
  maxTtlSeconds?: number;
  /** Namespace of entries when a call names none. Default "default" (the gateway's default too). */
  namespace?: string;
  /** Let different API keys share entries. Default false: the credential is part of the key, as in the gateway. */
  shareAcrossCredentials?: boolean;
  /**
   * Where the credential is found, every source present counts: header names or `query:NAME`. Default
   * authorization, x-api-key, api-key, x-goog-api-key, query:key, query:api-key (the gateway's).
   */
  credentialSources?: string[];
  /**
   * Key rotation: a tenant name and the SHA-256 (hex) of each of its API keys; those keys share
   * one scope (the gateway's cache.tenants).
   */
  tenants?: Record<string, string[]>;
  /** A namespace's own mode over `mode`, e.g. `{ evals: 'off' }` (the gateway's cache.namespaceModes). */
  namespaceModes?: Record<string, CacheMode>;
  /** A route's own mode over `mode`, by path (`/v1/responses`); a namespace's mode wins (cache.routeModes). */
  routeModes?: Record<string, CacheMode>;
  /** Pacing of replayed streams: instant (default), realtime (recorded gaps) or N chunks per second. */
  replay?: ReplayPacing;
  /**
   * USD per million tokens for `stats().estimatedCostSaved`, by model name or prefix; they override
   * the built-in table of common OpenAI and Anthropic models (dated: BUILTIN_PRICES_DATE).
   * A model no price matches counts 0 and is reported in `stats().unpriced`.
   */
  prices?: Record<string, ModelPrice>;
  /** on (default), off, read-only or write-only: the gateway's cache modes. */
  mode?: CacheMode;
  /** Answers larger than this are served but not stored. Default 8 MiB. */
  maxEntryBytes?: number;
  /** Bound on identical calls joining one call in flight. Default 1000. */
  maxFollowers?: number;
  /** Let a producer or upstream call finish (and be stored) after every caller left. Default false. */
  completeOnDisconnect?: boolean;
  /**
   * Ask the upstream for usage on chat/completions streams whose caller did not, record it, and
   * hide it from that caller (the gateway's cache.requestStreamUsage). Default false.
   */
  requestStreamUsage?: boolean;
  /** Idle, duration and size limits of every upstream call or producer run. */
  limits?: Partial<CallLimits>;
  /**
   * Semantic lookups after an exact miss, with the gateway's `semantic:` settings
   * (`{ enabled: true }` for the lexical embedder, `embeddingsUrl` for an OpenAI-compatible one).
   * With a RedisStore, candidates are shared with every app and gateway on that Redis.
   */
  semantic?: SemanticConfigInput;
}

export interface ResolvedOptions {
  storeTimeoutMs: number;
  ttlSeconds: number;
  maxTtlSeconds: number;
  namespace: string;
  shareAcrossCredentials: boolean;
  credentialSources: string[];
  tenants: Record<string, string[]>;
  namespaceModes: Record<string, CacheMode>;
  routeModes: Record<string, CacheMode>;
  replay: ReplayPacing;
  prices: Record<string, ModelPrice>;
  mode: CacheMode;
  maxEntryBytes: number;
  maxFollowers: number;
  completeOnDisconnect: boolean;
  requestStreamUsage: boolean;
  limits: CallLimits;
  semantic: SemanticConfig;
}


const optionsSchema = z
  .object({
    ...cacheShape,
    store: z
      .custom<CacheStore>(isStore, { message: 'must implement CacheStore (get, set, purge, close)' })
      .optional(),
    storeTimeoutMs: z.number().int().positive().default(DEFAULTS.storeTimeoutMs),
    namespace: z
      .string()
      .regex(NAME_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -')
      .default(DEFAULTS.namespace),
    prices: priceTableSchema.default({}),
    limits: z.object(callLimitsShape).strict().prefault({}),
    semantic: semanticSchema.prefault({}),
  })
  .strict()
  .refine((o) => o.ttlSeconds <= o.maxTtlSeconds, {
    message: 'must not exceed maxTtlSeconds',
    path: ['ttlSeconds'],
  });

/** Validate once, at construction; the error names every bad field (`field`: the first). */
export function resolveOptions(input: unknown): ResolvedOptions & { store?: CacheStore | undefined } {
  const result = optionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const { message, field } = describeIssues(result.error.issues, '(options)');
  throw new LibraryError('LIB_INVALID_OPTIONS', `Invalid ResponseCache options:\n${message}`, { field });
}

function isStore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['get', 'set', 'purge', 'close'].every((method) => typeof candidate[method] === 'function');
}
