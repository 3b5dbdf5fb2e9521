import { z } from 'zod';
import { NAME_PATTERN } from './cache/controls.js';
import { CREDENTIAL_SOURCE_PATTERN, DEFAULT_CREDENTIAL_SOURCES } from './cache/credentials.js';
import { DEFAULTS } from './defaults.js';

/** Schema pieces shared by the gateway config and the library options: same names, same rules. */
export const replaySchema = z.union([z.enum(['instant', 'realtime']), z.number().positive()]);
export type ReplayPacing = z.infer<typeof replaySchema>;

export const cacheModeSchema = z.enum(['on', 'off', 'read-only', 'write-only']);

/** The limits every upstream call is held to, whoever made it (DESIGN.md rule 9). */
export const callLimitsShape = {
  /** Longest silence from upstream (or a producer): before the first byte and between bytes. */
  idleTimeoutMs: z.number().int().positive().default(DEFAULTS.limits.idleTimeoutMs),
  maxStreamDurationMs: z.number().int().positive().default(DEFAULTS.limits.maxStreamDurationMs),
  maxResponseBytes: z.number().int().positive().default(DEFAULTS.limits.maxResponseBytes),
};

/** Cache options with the same names and defaults in the gateway config (`cache.*`) and the library. */
export const cacheShape = {
  mode: cacheModeSchema.default('on'),
  ttlSeconds: z.number().int().positive().default(DEFAULTS.ttlSeconds),
  maxTtlSeconds: z.number().int().positive().default(DEFAULTS.maxTtlSeconds),
  maxEntryBytes: z.number().int().positive().default(DEFAULTS.maxEntryBytes),
  /** Let tenants with different credentials share entries (off: isolation by credential). */
  shareAcrossCredentials: z.boolean().default(false),
  /**
   * Where the client's credential is found, every source present counts: header names, or
   * `query:NAME` for a query parameter. Hashed into every key scope, never logged.
   */
  credentialSources: z
    .array(z.string().regex(CREDENTIAL_SOURCE_PATTERN, 'use a header name or query:NAME'))
    .min(1)
    .default([...DEFAULT_CREDENTIAL_SOURCES]),
  /** Default pacing of replayed streams: instant, realtime (recorded offsets), or N tokens/s. */
  replay: replaySchema.default('instant'),
  /** Keep an upstream stream going to fill the cache after every client left (within limits). */
  completeOnDisconnect: z.boolean().default(DEFAULTS.completeOnDisconnect),
  /**
   * Ask the upstream for usage on streams whose client did not (OpenAI chat and completions'
   * stream_options.include_usage), and strip it before the client sees it, so every stream
   * entry records usage. Those clients then get re-encoded events, not the upstream's bytes.
   */
  requestStreamUsage: z.boolean().default(false),
  /** Bound on callers joining one in-flight request. */
  maxFollowers: z.number().int().min(0).default(DEFAULTS.maxFollowers),
  /** A namespace's own cache mode, over `mode` (e.g. `{ evals: off }` for sampled evaluations). */
  namespaceModes: z.record(z.string().regex(NAME_PATTERN, 'use a namespace name'), cacheModeSchema).default({}),
  /**
   * A route's own cache mode (its path, e.g. `/v1/responses`; `/groq/v1/responses` for that route
   * of the named upstream `groq` only, over the bare route), over `mode`; a namespace's mode wins over it.
   */
  routeModes: z.record(z.string().regex(/^\/\S*$/, 'use a route path such as /v1/responses'), cacheModeSchema).default({}),
  /**
   * Key rotation: a tenant name and the SHA-256 (hex) of each of its API keys; those keys share one
   * scope, so a new key still sees the entries the old one filled.
   */
  tenants: z
    .record(
      z.string().regex(NAME_PATTERN, 'use a tenant name of A-Z a-z 0-9 . _ : -'),
      z.array(z.string().regex(/^[0-9a-fA-F]{64}$/, 'use the SHA-256 of the key, in hex (64 characters)')).min(1),
    )
    .default({})
    .refine(eachHashOnce, { message: 'a key hash may belong to one tenant only' }),
};

function eachHashOnce(tenants: Record<string, string[]>): boolean {
  const all = Object.values(tenants).flat().map((h) => h.toLowerCase());
  return new Set(all).size === all.length;
}

/** Turn zod issues into one message that names every bad field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): { message: string; field: string } {
  // An unknown key is reported by zod on the object that holds it: name the key itself, one line each.
  const named = issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown option' }))
      : [{ path: issue.path, message: issue.message }],
  );
  const fields = named.map((issue) => (issue.path.length > 0 ? issue.path.map(String).join('.') : root));
  const lines = named.map((issue, i) => `  - ${fields[i]}: ${issue.message}`);
  return { message: lines.join('\n'), field: fields[0] ?? root };
}
