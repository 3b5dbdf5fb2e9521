import type { RedisStore } from '../cache/redis-store.js';
import { type SemanticEvents, SemanticLayer } from './layer.js';
import { LexicalEmbedder } from './lexical-embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';
import { type SemanticConfig, semanticActive } from './options.js';
import { RedisShare } from './redis-share.js';
import type { Embedder } from './types.js';
import { SemanticIndex } from './vector-index.js';

export interface SemanticSetup {
  /** When given, rows are shared with every replica using the same Redis and key prefix. */
  redis?: RedisStore | undefined;
  events?: SemanticEvents;
  /** For the openai embedder; default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

/** The one way gateway and library build their semantic layer from a `semantic:` block. */
export function createSemanticLayer(config: SemanticConfig, setup: SemanticSetup = {}): SemanticLayer {
  const events = setup.events ?? {};
  const embedder: Embedder = config.embeddingsUrl
    ? new OpenAiEmbedder({
        url: config.embeddingsUrl,
        model: config.embeddingsModel,
        apiKey: config.embeddingsApiKey,
        timeoutMs: config.embeddingsTimeoutMs,
        onBreakerChange: (state) => events.embedderBreaker?.(state),
        ...(setup.fetch ? { fetch: setup.fetch } : {}),
      })
    : new LexicalEmbedder();
  // One index, fed by this replica's writes and, through the share, by every other replica's.
  const index = new SemanticIndex({
    maxRows: config.maxRows,
    maxBytes: config.maxBytes,
    maxRowsPerPartition: config.maxRowsPerPartition,
  });
  const share =
    semanticActive(config) && setup.redis
      ? new RedisShare(
          {
            commands: setup.redis.duplicateClient(),
            subscriber: setup.redis.duplicateClient(),
            keyPrefix: setup.redis.keyPrefix,
            maxRowsPerLoad: config.maxRowsPerPartition,
            onError: (op, err) => events.shareError?.(op, err),
          },
          index,
        )
      : undefined;
  return new SemanticLayer({ config, embedder, index, share, events });
}

export { DEFAULT_THRESHOLDS, type SemanticConfig, type SemanticConfigInput, semanticSchema } from './options.js';
export { type SemanticEvents, SemanticLayer, type SemanticOutcome, type SemanticQuery } from './layer.js';
export { LexicalEmbedder } from './lexical-embedder.js';
export { OpenAiEmbedder } from './openai-embedder.js';
export { SemanticIndex, type VectorIndex } from './vector-index.js';
export { type Embedder, type EmbedderIdentity, SemanticError } from './types.js';
