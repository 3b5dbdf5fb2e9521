import type { HttpProtocolName } from './types.js';

/**
 * The only request fields left out of the cache key, each with the reason it cannot change the
 * answer. Everything else in the body is key material. A test covers every entry here.
 *
 * `store` is deliberately key material: a Responses answer recorded with `store: false` carries
 * a `resp_…` id the provider never kept, so replaying it to a `store: true` client would hand it
 * an id it cannot chain with `previous_response_id` (and chat's `store` decides the same for
 * stored completions).
 */
const COMMON = {
  // Framing only: a cached answer is served as a stream or as JSON, whichever the client asked for.
  stream: 'framing',
  // Framing only: the usage chunk is added or dropped at replay time.
  stream_options: 'framing',
  // End-user identifiers for the provider's abuse tracking.
  user: 'end-user id',
  safety_identifier: 'end-user id',
  // Labels for the provider's dashboards.
  metadata: 'labels',
  // Routing hints for the provider's prompt cache; the answer is the same.
  prompt_cache_key: 'provider cache hint',
  prompt_cache_retention: 'provider cache hint',
} as const;

export const KEY_EXCLUSIONS: Readonly<Record<HttpProtocolName, Readonly<Record<string, string>>>> = {
  'openai.chat': COMMON,
  'openai.completions': COMMON,
  'openai.responses': COMMON,
  'openai.embeddings': { user: COMMON.user },
  'anthropic.messages': { stream: COMMON.stream, metadata: COMMON.metadata },
  // Labels for Bedrock's invocation logs.
  'bedrock.converse': { requestMetadata: 'labels' },
  // A model-native body: nothing in it is known to be framing only.
  'bedrock.invoke': {},
  // Gemini bodies carry no framing field (`alt` is in the query, see QUERY_KEY_EXCLUSIONS).
  'gemini.generate': {},
  'gemini.json': {},
};

/**
 * The only query parameters left out of the cache key besides credentials (which scope the key,
 * hashed: cache/credentials.ts). Every other parameter is key material.
 */
export const QUERY_KEY_EXCLUSIONS: Readonly<Partial<Record<HttpProtocolName, Readonly<Record<string, string>>>>> = {
  // Framing only: `alt=sse` asks for the answer as server-sent events, `alt=json` (the default) as
  // JSON. The JSON-array form of streamGenerateContent (no `alt=sse`) is keyed apart by its
  // validate() (`:framing`). Any other `alt` (`proto`: a binary answer) is not framing: validate()
  // keeps it in the key (`:alt`) and the request bypasses the cache (gemini-shared.ts unreadAlt).
  'gemini.generate': { alt: 'framing' },
  // Framing only, the same way: `alt=json` is these operations' only form; any other `alt` bypasses.
  'gemini.json': { alt: 'framing' },
};

/** The query string minus the protocol's excluded parameters ('' stays '', nothing excluded stays as is). */
export function withoutExcludedQuery(protocol: HttpProtocolName, search: string): string {
  const excluded = QUERY_KEY_EXCLUSIONS[protocol];
  if (search === '' || excluded === undefined) return search;
  const query = new URLSearchParams(search);
  for (const name of Object.keys(excluded)) query.delete(name);
  const rest = query.toString();
  return rest === '' ? '' : `?${rest}`;
}

/** The body minus the protocol's excluded fields (a shallow copy; the input is not modified). */
export function withoutExcludedFields<T extends Record<string, unknown>>(protocol: HttpProtocolName, body: T): T {
  const excluded = KEY_EXCLUSIONS[protocol];
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(body)) {
    if (!Object.hasOwn(excluded, field)) out[field] = body[field];
  }
  return out as T;
}
