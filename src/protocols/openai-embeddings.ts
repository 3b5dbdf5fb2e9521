import type { SseEventInit } from '../sse/types.js';
import { ProtocolError } from './errors.js';
import { withoutExcludedFields } from './key-exclusions.js';
import { badRequest, checkOpenAiBody, errorReason, isJsonObject, mapOpenAiUsage, openAiRequest } from './openai-shared.js';
import type { JsonObject, JsonValue, Protocol } from './types.js';

/**
 * OpenAI Embeddings (`POST /v1/embeddings`). JSON only: there is no stream form, so a stream
 * request is refused up front and the stream operations refuse with a typed error.
 */

function isTokenArray(value: JsonValue): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((token) => Number.isInteger(token));
}

/** `input`: a non-empty string, or a non-empty array of strings, of tokens, or of token arrays. */
function isInput(value: JsonValue | undefined): boolean {
  if (typeof value === 'string') return value.length > 0;
  if (!Array.isArray(value) || value.length === 0) return false;
  return (
    value.every((item) => typeof item === 'string' && item.length > 0) ||
    isTokenArray(value) ||
    value.every((item) => isTokenArray(item))
  );
}

/** An embedding vector: numbers, or a base64 string when `encoding_format: "base64"`. */
function isEmbedding(value: JsonValue | undefined): boolean {
  return typeof value === 'string' || (Array.isArray(value) && value.every((x) => typeof x === 'number'));
}

function notStreamable(operation: string): never {
  throw new ProtocolError('PROTOCOL_NOT_STREAMABLE', `embeddings do not stream: nothing to ${operation}`);
}

export const openaiEmbeddingsProtocol: Protocol = {
  name: 'openai.embeddings',
  family: 'openai',
  path: '/v1/embeddings',

  validate(body) {
    const common = checkOpenAiBody(body);
    if (!common.ok) return common.failure;
    if (common.stream)
      return badRequest('`stream` must be false or absent: embeddings do not stream.', 'stream');
    if (!isInput(common.body.input)) {
      return badRequest(
        '`input` is required: a non-empty string, or a non-empty array of strings, of tokens, or of token arrays.',
        'input',
      );
    }
    return openAiRequest(common);
  },

  cacheability: () => ({ cacheable: true }),

  keyMaterial: (request) => withoutExcludedFields('openai.embeddings', request.body),

  isTerminal: () => false,
  inspectStream: () => ({ complete: false, reason: 'embeddings do not stream' }),

  inspectJson(body) {
    if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
    const error = errorReason(body);
    if (error !== undefined) return { ok: false, reason: `error body: ${error}` };
    if (body.object !== 'list') return { ok: false, reason: '`object` is not "list"' };
    if (!Array.isArray(body.data) || body.data.length === 0)
      return { ok: false, reason: 'no embeddings in `data`' };
    for (const [i, item] of body.data.entries()) {
      const valid = isJsonObject(item) && item.object === 'embedding' && isEmbedding(item.embedding);
      if (!valid) return { ok: false, reason: `data[${i}] is not an embedding object` };
    }
    const usage = mapOpenAiUsage(body.usage);
    return {
      ok: true,
      ...(typeof body.model === 'string' ? { model: body.model } : {}),
      ...(usage ? { usage } : {}),
    };
  },

  assemble: (): JsonObject => notStreamable('assemble'),
  synthesize: (): SseEventInit[] => notStreamable('synthesize'),
};
