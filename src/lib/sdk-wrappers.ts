import type { FetchFunction } from './fetch-port.js';
import type { ResponseCache } from './response-cache.js';

/**
 * The shape both official SDKs share (openai ≥ 5, @anthropic-ai/sdk ≥ 0.50): a public baseURL and
 * withOptions() returning a configured copy. Structural, so the SDKs stay optional dependencies.
 */
export interface WrappableClient<C> {
  readonly baseURL: string;
  withOptions(options: { fetch: FetchFunction }): C;
}

export interface WrapOptions {
  cache: ResponseCache;
  /** The fetch that really calls the API. Default: the client's own fetch, else globalThis.fetch. */
  fetch?: FetchFunction;
}

/**
 * A copy of an OpenAI client whose chat.completions, completions, responses and embeddings calls
 * go through the cache. Everything else in the SDK works unchanged, streams and helpers included.
 * Per-call controls travel as request headers: `{ headers: { 'cache-control': 'no-cache' } }`.
 */
export function wrapOpenAI<C extends WrappableClient<C>>(client: C, options: WrapOptions): C {
  return wrap('openai', client, options);
}

/** A copy of an Anthropic client whose messages.create / messages.stream calls go through the cache. */
export function wrapAnthropic<C extends WrappableClient<C>>(client: C, options: WrapOptions): C {
  return wrap('anthropic', client, options);
}

function wrap<C extends WrappableClient<C>>(
  family: 'openai' | 'anthropic',
  client: C,
  options: WrapOptions,
): C {
  const realFetch = options.fetch ?? clientFetch(client) ?? globalThis.fetch;
  return client.withOptions({ fetch: options.cache.fetchFor(family, client.baseURL, realFetch) });
}

/**
 * The fetch the client was configured with (a proxy agent, a test double...). Both SDKs keep it
 * in a field that is private to TypeScript only; reading it keeps such a setup working.
 */
function clientFetch(client: object): FetchFunction | undefined {
  const value: unknown = Reflect.get(client, 'fetch');
  return typeof value === 'function' ? (value as FetchFunction).bind(undefined) : undefined;
}
