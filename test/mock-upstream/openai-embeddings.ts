import { createHash } from 'node:crypto';
import { canonicalJson, createRandom, estimateTokens } from './answer.js';
import {
  type MockProtocol,
  type MockReply,
  MockRequestError,
  optionalInteger,
  type RequestContext,
  requireString,
} from './protocol.js';

/**
 * POST /v1/embeddings (JSON only). Each input gets a unit-length vector seeded by
 * (model, input) alone, so the same text embeds the same way in any batch and semantic
 * cache tests can rely on identical inputs giving identical vectors. `encoding_format:
 * "base64"` (the openai SDK's default on the wire) sends little-endian float32 bytes.
 */

const DEFAULT_DIMENSIONS = 1536;

export const openaiEmbeddings: MockProtocol = {
  errorShape: 'openai',
  reply(context: RequestContext): MockReply {
    const { body } = context;
    const model = requireString(body, 'model');
    const inputs = normaliseInput(body.input);
    const dimensions = optionalInteger(body, 'dimensions', 1, 8192) ?? DEFAULT_DIMENSIONS;
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      throw new MockRequestError(
        400,
        "Invalid 'encoding_format': expected 'float' or 'base64'.",
        'encoding_format',
      );
    }
    const data = inputs.map((input, index) => {
      const vector = embed(model, input, dimensions);
      const embedding =
        format === 'base64'
          ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
          : [...vector];
      return { object: 'embedding', index, embedding };
    });
    const promptTokens = inputs.reduce<number>((sum, input) => sum + estimateTokens(input), 0);
    return {
      kind: 'json',
      contentChunks: 0,
      body: {
        object: 'list',
        data,
        model,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
    };
  },
};

/** The API takes a string, a list of strings, a token list, or a list of token lists. */
function normaliseInput(input: unknown): unknown[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) {
    return input.every((item) => typeof item === 'number') ? [input] : input;
  }
  throw new MockRequestError(400, "Missing required parameter: 'input'.", 'input');
}

function embed(model: string, input: unknown, dimensions: number): Float32Array {
  const digest = createHash('sha256').update(model).update('\0').update(canonicalJson(input)).digest();
  const random = createRandom(digest.readUInt32LE(0));
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = random() * 2 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}
