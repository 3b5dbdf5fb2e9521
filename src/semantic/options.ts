import { z } from 'zod';

/**
 * The `semantic:` block, shared by the gateway's config and the library's `semantic` option, so
 * both take the same settings with the same defaults.
 */

/**
 * Default cosine threshold per embedder. 0.95 for `openai` (as the issue asks; typical
 * sentence-embedding paraphrases land at 0.93-0.99). The lexical default is measured by
 * `npm run bench:semantic`: no false hit on the tuning pairs nor on the held-out pairs (bench/RESULTS.md).
 */
export const DEFAULT_THRESHOLDS = { openai: 0.95, lexical: 0.75 } as const;

export const semanticSchema = z
  .object({
    /** Off by default. */
    enabled: z.boolean().default(false),
    /** Cosine similarity (0-1) a candidate must reach. Default: per embedder (DEFAULT_THRESHOLDS). */
    threshold: z.number().min(0).max(1).optional(),
    /** OpenAI-compatible base URL (as --upstream); set, it selects the `openai` embedder. */
    embeddingsUrl: z.url().optional(),
    embeddingsModel: z.string().min(1).default('text-embedding-3-small'),
    embeddingsApiKey: z.string().min(1).optional(),
    /** Bound on an embeddings call: a semantic lookup never adds more than this to a miss. */
    embeddingsTimeoutMs: z.number().int().positive().max(60_000).default(1000),
    /** Run lookups and report would-be hits, but never serve from them. Runs the layer even without `enabled`. */
    shadow: z.boolean().default(false),
    /** Requests with more messages than this (system included) are exact-only. */
    maxMessages: z.number().int().positive().default(3),
    /** In-process index bounds: rows, and bytes of vectors (int8), graph links and metadata. */
    maxRows: z.number().int().positive().default(100_000),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(128 * 1024 * 1024),
    /**
     * Past this a partition drops its oldest rows. A large partition is an HNSW graph whose lookup
     * grows with log(rows), so one partition may hold the whole index (bench/RESULTS.md).
     */
    maxRowsPerPartition: z.number().int().positive().default(100_000),
  })
  .strict();

export type SemanticConfig = z.infer<typeof semanticSchema>;
export type SemanticConfigInput = z.input<typeof semanticSchema>;

/** Shadow mode alone runs the layer too: asking to measure means asking for the lookups. */
export function semanticActive(config: SemanticConfig): boolean {
  return config.enabled || config.shadow;
}

export function effectiveThreshold(config: SemanticConfig): number {
  return config.threshold ?? DEFAULT_THRESHOLDS[config.embeddingsUrl ? 'openai' : 'lexical'];
}
