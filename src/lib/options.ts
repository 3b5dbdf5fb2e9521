import { z } from 'zod';
// NAME_PATTERN: the gateway's rule for x-sluice-namespace / x-sluice-tags, so names travel between them.
import { type CacheMode, NAME_PATTERN } from '../cache/controls.js';
import { CREDENTIAL_SOURCE_PATTERN, DEFAULT_CREDENTIAL_SOURCES } from '../cache/credentials.js';
import type { CacheStore } from '../cache/store.js';
import type { ReplayPacing } from '../config.js';
import { type SemanticConfig, type SemanticConfigInput, semanticSchema } from '../semantic/options.js';
import { type ModelPrice, priceTableSchema } from '../stats/prices.js';
import { LibraryError } from './errors.js';

export type { ModelPrice };

export interface ResponseCacheOptions {
  /** Where entries live. Default: a new MemoryStore. A RedisStore is wrapped in FailOpenStore. */
  store?: CacheStore;
  /** Lifetime of a new entry. Default 3600. */
  ttlSeconds?: number;
  /** Namespace of entries when a call names none. Default "default" (the gateway's default too). */
  namespace?: string;
  /** Let different API keys share entries. Default false: the credential is part of the key, as in the gateway. */
  shareAcrossCredentials?: boolean;
  /**
   * Where the credential is found, first present wins: header names or `query:NAME`. Default
   * authorization, x-api-key, api-key, x-goog-api-key, query:key, query:api-key (the gateway's).
   */
  credentialSources?: string[];
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
  /**
   * Semantic lookups after an exact miss, with the gateway's `semantic:` settings
   * (`{ enabled: true }` for the lexical embedder, `embeddingsUrl` for an OpenAI-compatible one).
   * With a RedisStore, candidates are shared with every app and gateway on that Redis.
   */
  semantic?: SemanticConfigInput;
}

export interface ResolvedOptions {
  ttlSeconds: number;
  namespace: string;
  shareAcrossCredentials: boolean;
  credentialSources: string[];
  replay: ReplayPacing;
  prices: Record<string, ModelPrice>;
  mode: CacheMode;
  maxEntryBytes: number;
  semantic: SemanticConfig;
}


const optionsSchema = z
  .object({
    store: z
      .custom<CacheStore>(isStore, { message: 'must implement CacheStore (get, set, purge, close)' })
      .optional(),
    ttlSeconds: z.number().int().positive().default(3600),
    namespace: z
      .string()
      .regex(NAME_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -')
      .default('default'),
    shareAcrossCredentials: z.boolean().default(false),
    credentialSources: z
      .array(z.string().regex(CREDENTIAL_SOURCE_PATTERN, 'use a header name or query:NAME'))
      .min(1)
      .default([...DEFAULT_CREDENTIAL_SOURCES]),
    replay: z.union([z.enum(['instant', 'realtime']), z.number().positive()]).default('instant'),
    prices: priceTableSchema.default({}),
    mode: z.enum(['on', 'off', 'read-only', 'write-only']).default('on'),
    maxEntryBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    semantic: semanticSchema.prefault({}),
  })
  .strict();

/** Validate once, at construction; the error names every bad field. */
export function resolveOptions(input: unknown): ResolvedOptions & { store?: CacheStore | undefined } {
  const result = optionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(options)';
    return `  - ${field}: ${issue.message}`;
  });
  throw new LibraryError('LIB_INVALID_OPTIONS', `Invalid ResponseCache options:\n${lines.join('\n')}`);
}

function isStore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['get', 'set', 'purge', 'close'].every((method) => typeof candidate[method] === 'function');
}
