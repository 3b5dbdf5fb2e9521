/**
 * The public entry of the `sluice` package: the library API (ResponseCache and the SDK
 * wrappers), the stores it shares with the gateway, and the SSE codec. The gateway has its own
 * entry, `sluice/gateway`: importing this one loads nothing of src/gateway/ (a test checks it).
 */

export type { CacheMode } from './cache/controls.js';
export { type CacheEntry, ENTRY_VERSION, type EntryFormat } from './cache/entry.js';
export { decodeEntry, encodeEntry } from './cache/entry-codec.js';
export { FailOpenStore, type FailOpenStoreOptions, type StoreOperation } from './cache/fail-open-store.js';
export { canonicalJson, credentialScope, deriveCacheKey, type KeyInput } from './cache/key.js';
export { MemoryStore, type MemoryStoreOptions, type MemoryStoreStats } from './cache/memory-store.js';
export { NullStore } from './cache/null-store.js';
export { RedisStore, type RedisStoreOptions } from './cache/redis-store.js';
export { type CacheStore, IncompletePurgeError, type PurgeFilter, StoreError } from './cache/store.js';
export { type CacheLayer, TieredStore, type TieredStoreOptions } from './cache/tiered-store.js';
export type { ReplayPacing } from './options-schema.js';
export * from './lib/index.js';
export { BUILTIN_PRICES, BUILTIN_PRICES_DATE } from './stats/prices.js';
export type { ProtocolFamily, ProtocolName, Usage } from './protocols/types.js';
export {
  createSseDecoder,
  encodeSseEvent,
  encodeSseEvents,
  EventStreamError,
  SseDecodeError,
  type SseDecoder,
  type SseDecoderOptions,
  SseEncodeError,
  type SseEvent,
  type SseEventInit,
  SseOptionError,
} from './sse/index.js';
export { ProtocolError } from './protocols/errors.js';
export { SemanticError } from './semantic/types.js';
