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
 * POST /v1/embeddings (JSON only). Deterministic per (model, input), so the same text embeds the
 * same way in any batch. A text input is a bag of concepts: its words, lower-cased, accents
 * folded, a few filler words dropped, crude stemming, and a small synonym table (SYNONYMS); each
 * concept has a fixed random direction and the vector is their normalised sum. So paraphrases
 * that keep the concepts ("Describe how photosynthesis works" / "explain how photosynthesis
 * work") land at similarity 1, a changed or added concept ("... does not work") costs a lot, and
 * unrelated texts are near-orthogonal. Texts with no concept at all (whitespace, only filler
 * words) all share one direction, as they nearly do with real models. Token-array inputs get one random direction each.
 * `encoding_format: "base64"` (the openai SDK's default on the wire) sends little-endian float32 bytes.
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

const FILLER = new Set(
  'a an the is are was were be please me my i you your can could would will do does did just kindly tell give of to for in on at by with and or so that this it its'.split(
    ' ',
  ),
);

/** Words with the same meaning share one concept. */
const SYNONYMS: Record<string, string> = {
  hi: 'hello',
  hey: 'hello',
  greetings: 'hello',
  describe: 'explain',
  clarify: 'explain',
  big: 'large',
  huge: 'large',
  quick: 'fast',
  rapid: 'fast',
  automobile: 'car',
  vehicle: 'car',
  purchase: 'buy',
  begin: 'start',
  commence: 'start',
  function: 'work',
  operate: 'work',
  summarise: 'summarize',
  sum: 'summarize',
};

export function mockConcepts(text: string): string[] {
  const words = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const concepts = new Set<string>();
  for (const word of words) {
    if (FILLER.has(word)) continue;
    const stemmed = word.length > 4 ? word.replace(/(ing|ed|es|s)$/u, '') : word;
    concepts.add(SYNONYMS[word] ?? SYNONYMS[stemmed] ?? stemmed);
  }
  return [...concepts];
}

function concepts(text: string): string[] | undefined {
  const found = mockConcepts(text);
  return found.length > 0 ? found.map((c) => `concept:${c}`) : undefined;
}

function embed(model: string, input: unknown, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  // Like real models, every text without content (whitespace, filler words) lands in one place.
  const parts =
    typeof input === 'string'
      ? (concepts(input) ?? ['concept:'])
      : [canonicalJson(input)];
  for (const part of parts) {
    const digest = createHash('sha256').update(model).update('\0').update(part).digest();
    const random = createRandom(digest.readUInt32LE(0));
    for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) + random() * 2 - 1;
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += (vector[i] ?? 0) ** 2;
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}
