export { CachedStream } from './cached-stream.js';
export type { BaseUrl } from '../cache/scope.js';
export { LibraryError, type LibraryErrorCode } from './errors.js';
export { type FailureCode, SluiceError, type SluiceErrorCode, UpstreamError } from '../errors.js';
export type { FetchFunction } from './fetch-port.js';
export type {
  CallOptions,
  GenericCacheStatus,
  Serializer,
  StreamCallOptions,
  StreamProducer,
} from './generic-calls.js';
export type { ModelPrice, ResolvedOptions, ResponseCacheOptions } from './options.js';
export { ResponseCache } from './response-cache.js';
export { type WrapOptions, type WrappableClient, wrapAnthropic, wrapOpenAI } from './sdk-wrappers.js';
export type { CacheStats } from './stats.js';
