import type { JsonObject, JsonValue, Usage } from './types.js';

/**
 * Pieces of the Anthropic wire format that more than one module needs: the error body Sluice
 * answers with, and reading / merging the `usage` object.
 */

/** Anthropic's error types (https://docs.anthropic.com/en/api/errors), for errors Sluice raises itself. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

/** The body Anthropic sends with a non-2xx status; the SDK reads `error.type` and `error.message`. */
export function anthropicErrorBody(message: string, type: AnthropicErrorType | string): JsonObject {
  return { type: 'error', error: { type, message } };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sluice's usage summary from an Anthropic `usage` object. Anthropic's `input_tokens` excludes
 * prompt tokens read from or written to its prompt cache, so those are added back: the summary
 * counts every prompt token a cache hit saved the client from sending.
 */
export function anthropicUsage(usage: JsonValue | undefined): Usage | undefined {
  if (!isJsonObject(usage)) return undefined;
  const input = usage.input_tokens;
  const output = usage.output_tokens;
  if (typeof input !== 'number' || typeof output !== 'number') return undefined;
  return {
    inputTokens:
      input + countOrZero(usage.cache_creation_input_tokens) + countOrZero(usage.cache_read_input_tokens),
    outputTokens: output,
  };
}

/**
 * Apply a `message_delta` usage to the usage from `message_start`, as the SDK's MessageStream does:
 * `output_tokens` always replaces; the other counters are cumulative totals that are omitted or
 * null when they do not apply, so they replace only when present. Unknown counters are carried
 * the same way, so a new field the API adds ends up where the non-stream answer would have it.
 */
export function mergeAnthropicUsage(start: JsonValue | undefined, delta: JsonValue | undefined): JsonObject {
  const merged: JsonObject = isJsonObject(start) ? { ...start } : {};
  if (!isJsonObject(delta)) return merged;
  for (const [field, value] of Object.entries(delta)) {
    if (field === 'output_tokens' || value !== null) merged[field] = value;
  }
  return merged;
}

function countOrZero(value: JsonValue | undefined): number {
  return typeof value === 'number' ? value : 0;
}

/** The verdict's optional `model` and `usage`, read from a Message. */
export function modelAndUsage(message: JsonObject): { model?: string; usage?: Usage } {
  const usage = anthropicUsage(message.usage);
  return {
    ...(typeof message.model === 'string' ? { model: message.model } : {}),
    ...(usage === undefined ? {} : { usage }),
  };
}
