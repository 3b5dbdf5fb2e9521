import { z } from 'zod';

/**
 * The `upstreams:` block: several named upstreams behind one gateway, each served under its name
 * (`/groq/v1/chat/completions` goes to the `groq` upstream). The single-upstream flags
 * (`--upstream`, `--anthropic-upstream`, `--bedrock-upstream`, `--gemini-upstream`) stay the
 * unnamed default, served at the root.
 *
 * ```yaml
 * upstreams:
 *   groq:   { url: https://api.groq.com/openai/v1, protocol: openai, apiKey: gsk_... }
 *   ollama: { url: http://127.0.0.1:11434/v1, protocol: openai, maxConnections: 8 }
 * ```
 */

/** Path segments Sluice serves at the root: an upstream cannot take one as its name. */
export const RESERVED_UPSTREAM_NAMES: ReadonlySet<string> = new Set([
  'v1',
  'v1beta',
  'v1alpha',
  'model',
  'admin',
  'dashboard',
  'metrics',
  'healthz',
]);

/** A name is one URL path segment, safe in tags, metric labels and logs. */
const UPSTREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const namedUpstreamSchema = z
  .object({
    /** The base URL, as that protocol's SDK takes it (OpenAI-compatible: version path included). */
    url: z.url(),
    /** Which wire protocol family it speaks: the routes served under its name. */
    protocol: z.enum(['openai', 'anthropic', 'gemini', 'bedrock']),
    /** When set, sent upstream instead of the client's credential. */
    apiKey: z.string().min(1).optional(),
    /** Connections to this upstream at once (its own pool); 0 or absent: limits.maxUpstreamConnections. */
    maxConnections: z.number().int().min(0).optional(),
    /** Call limits for this upstream; absent fields fall back to `limits.*`. */
    limits: z
      .object({
        idleTimeoutMs: z.number().int().positive().optional(),
        maxStreamDurationMs: z.number().int().positive().optional(),
        maxResponseBytes: z.number().int().positive().optional(),
        connectTimeoutMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const upstreamsSchema = z
  .record(
    z
      .string()
      .regex(UPSTREAM_NAME, 'an upstream name is 1-63 characters of a-z 0-9 _ -, starting with a letter or digit')
      .refine((name) => !RESERVED_UPSTREAM_NAMES.has(name), {
        message: `an upstream name must not be one of Sluice's own paths (${[...RESERVED_UPSTREAM_NAMES].join(', ')})`,
      }),
    namedUpstreamSchema,
  )
  .default({});

export type NamedUpstreamConfig = z.infer<typeof namedUpstreamSchema>;
