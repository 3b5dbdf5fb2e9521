import type { JsonObject, JsonValue, RequestCheck, Usage } from './types.js';

/**
 * Helpers shared by the OpenAI protocols (chat, legacy completions, embeddings, responses):
 * the error body, usage mapping, request checks common to every OpenAI endpoint, and safe JSON
 * parsing for recorded stream events.
 */

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export function openaiErrorBody(
  message: string,
  type: string,
  code: string | null,
  param?: string | null,
): JsonObject {
  return { error: { message, type, param: param ?? null, code } };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse that never throws: recorded streams may hold anything, and a bad event is a verdict, not a crash. */
export function parseJsonObject(data: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function tokenCount(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * OpenAI usage in any of its spellings, as Sluice's `Usage`: chat/completions/embeddings say
 * `prompt_tokens`/`completion_tokens`, the Responses API says `input_tokens`/`output_tokens`.
 * Embeddings have no output, so a missing output count is 0 as long as the input count exists.
 */
export function mapOpenAiUsage(value: unknown): Usage | undefined {
  if (!isJsonObject(value)) return undefined;
  const inputTokens = tokenCount(value.prompt_tokens) ?? tokenCount(value.input_tokens);
  if (inputTokens === undefined) return undefined;
  const outputTokens = tokenCount(value.completion_tokens) ?? tokenCount(value.output_tokens) ?? 0;
  return { inputTokens, outputTokens };
}

/** A failed validation, shaped the way every OpenAI protocol reports it. */
export function badRequest(message: string, param: string): RequestCheck {
  return { ok: false, status: 400, message, param };
}

/** What every OpenAI request body must satisfy, before the endpoint's own fields are checked. */
export type OpenAiBodyCheck =
  | { ok: true; body: JsonObject; model: string; stream: boolean }
  | { ok: false; failure: RequestCheck };

export function checkOpenAiBody(body: unknown): OpenAiBodyCheck {
  if (!isJsonObject(body)) {
    return { ok: false, failure: badRequest('The request body must be a JSON object.', 'body') };
  }
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) {
    return { ok: false, failure: badRequest('`model` must be a non-empty string.', 'model') };
  }
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    return { ok: false, failure: badRequest('`stream` must be a boolean (true or false).', 'stream') };
  }
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isJsonObject(streamOptions)) {
    return {
      ok: false,
      failure: badRequest(
        '`stream_options` must be an object, e.g. {"include_usage": true}.',
        'stream_options',
      ),
    };
  }
  return { ok: true, body, model, stream: stream === true };
}

/** `stream_options.include_usage === true`: the client asked for the usage chunk at the end of a stream. */
export function wantsStreamUsage(body: JsonObject): boolean {
  const options = body.stream_options;
  return isJsonObject(options) && options.include_usage === true;
}

/**
 * The message of an error object found in a stream or body (`{"error": {...}}`), for verdict reasons.
 * Returns undefined when there is no error (a `null` error field, as some providers send, is no error).
 */
export function errorReason(value: JsonObject): string | undefined {
  if (!Object.hasOwn(value, 'error') || value.error === null) return undefined;
  const error = value.error;
  if (isJsonObject(error) && typeof error.message === 'string') return error.message;
  if (typeof error === 'string') return error;
  return 'unspecified error';
}
