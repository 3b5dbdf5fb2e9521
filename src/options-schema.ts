import { z } from 'zod';
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
};

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
