import { createHash } from 'node:crypto';

/**
 * Deterministic answer material. Everything the mock says is a pure function of the
 * request body (minus the fields that cannot change an answer), so two identical requests
 * get byte-identical answers and any changed field gets a different one. That is what lets
 * cache tests tell a replay from a fresh upstream call by content alone.
 */

/** Fields a provider ignores when generating text; kept out of the hash like a cache key would. */
const TRANSPORT_ONLY_FIELDS = new Set(['stream', 'stream_options']);

/**
 * Vocabulary with multi-byte words on purpose: 2-byte (é, ï, ü, ñ), 3-byte (CJK, em dash)
 * and 4-byte (emoji) UTF-8 sequences, so split-framing tests cut through characters.
 */
const VOCABULARY = [
  'the',
  'cache',
  'stream',
  'answer',
  'café',
  'naïve',
  'river',
  'gateway',
  'token',
  'Zürich',
  'quick',
  'brown',
  'fox',
  'jalapeño',
  'façade',
  '🚀',
  'model',
  'bytes',
  'event',
  'replay',
  '日本語',
  'sluice',
  'water',
  'flows',
  'through',
  'gates',
  'and',
  'we',
  'keep',
  'what',
  'arrives',
  'whole',
  'señor',
  'crème',
  'brûlée',
  '—',
  'résumé',
  'über',
  '✨',
  'data',
  'is',
  'only',
  'stored',
  'once',
  'complete',
  'déjà',
  'vu',
  'κόσμος',
  'мир',
  'hello',
] as const;

const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Stable JSON: object keys sorted, so key order in the request does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    const parts: string[] = [];
    for (const key of keys) {
      if (value[key] === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Hex SHA-256 of the request body without transport-only fields; `salt` varies it on purpose. */
export function requestHash(body: JsonRecord, salt = ''): string {
  const material: JsonRecord = {};
  for (const [key, value] of Object.entries(body)) {
    if (!TRANSPORT_ONLY_FIELDS.has(key)) material[key] = value;
  }
  return createHash('sha256').update(canonicalJson(material)).update(salt).digest('hex');
}

/** Small fast PRNG (mulberry32): deterministic per seed, no allocation per draw. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from a hex hash plus a stream number (choice index, purpose...). */
export function seedFrom(hash: string, stream = 0): number {
  return (Number.parseInt(hash.slice(0, 8), 16) ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
}

/**
 * `count` word tokens, each but the first with its leading space, as a tokenizer would
 * emit them: joining the tokens gives the text.
 */
export function answerTokens(hash: string, stream: number, count: number): string[] {
  const random = createRandom(seedFrom(hash, stream));
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = VOCABULARY[Math.floor(random() * VOCABULARY.length)] ?? 'the';
    const capitalised = i === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word;
    tokens.push(i === 0 ? capitalised : ` ${word}`);
  }
  if (tokens.length > 0) tokens[tokens.length - 1] += '.';
  return tokens;
}

/** The word an endless stream sends as its i-th token: cheap, no hashing per chunk. */
export function endlessToken(i: number): string {
  return ` ${VOCABULARY[i % VOCABULARY.length]}`;
}

export function refusalTokens(): string[] {
  return REFUSAL_TEXT.split(' ').map((word, i) => (i === 0 ? word : ` ${word}`));
}

/**
 * Put `marker` (a protocol's terminal-event text) in the middle of the tokens: the
 * x-mock-done-in-content knob, proving a gateway does not search raw bytes for the end.
 */
export function withMarker(tokens: string[], marker: string): string[] {
  const at = Math.max(1, Math.floor(tokens.length / 2));
  return [...tokens.slice(0, at), ` ${marker}`, ...tokens.slice(at)];
}

/** Id suffix derived from the hash: same request, same id. */
export function idFrom(hash: string, length = 24, stream = 0): string {
  const rotated = hash.slice(stream % 16) + hash.slice(0, stream % 16);
  return Buffer.from(rotated, 'hex').toString('base64url').replace(/[-_]/g, 'x').slice(0, length);
}

/** A fixed-looking but request-dependent unix time, so JSON bodies are reproducible. */
export function createdFrom(hash: string): number {
  return 1_700_000_000 + (Number.parseInt(hash.slice(8, 14), 16) % 10_000_000);
}

/** Rough token estimate like tiktoken on English (~4 chars/token): good enough for usage fields. */
export function estimateTokens(value: unknown): number {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * Arguments object for a tool call, built from the tool's JSON Schema `properties` so that
 * SDK helpers that validate or parse arguments see plausible, schema-shaped values.
 */
export function toolArguments(schema: unknown, hash: string): JsonRecord {
  const random = createRandom(seedFrom(hash, 7));
  const properties = isRecord(schema) && isRecord(schema.properties) ? schema.properties : {};
  const args: JsonRecord = {};
  for (const [name, propSchema] of Object.entries(properties)) {
    const type = isRecord(propSchema) ? propSchema.type : undefined;
    const choices = isRecord(propSchema) && Array.isArray(propSchema.enum) ? propSchema.enum : undefined;
    if (choices && choices.length > 0) args[name] = choices[Math.floor(random() * choices.length)];
    else if (type === 'number') args[name] = Math.round(random() * 10_000) / 100;
    else if (type === 'integer') args[name] = Math.floor(random() * 100);
    else if (type === 'boolean') args[name] = random() < 0.5;
    else if (type === 'array') args[name] = [VOCABULARY[Math.floor(random() * VOCABULARY.length)]];
    else if (type === 'object') args[name] = {};
    else args[name] = VOCABULARY[Math.floor(random() * VOCABULARY.length)];
  }
  if (Object.keys(properties).length === 0) args.query = VOCABULARY[Math.floor(random() * VOCABULARY.length)];
  return args;
}

/** Split a string into pieces of at most `size` UTF-16 units without splitting surrogate pairs. */
export function splitFixed(text: string, size: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** Does the latest user turn ask for a tool? (content may be a string or a list of parts) */
export function asksForTool(content: unknown): boolean {
  return /call a tool/i.test(flattenText(content));
}

export function flattenText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(flattenText).join(' ');
  if (isRecord(content)) {
    if (typeof content.text === 'string') return content.text;
    if (content.content !== undefined) return flattenText(content.content);
  }
  return '';
}
