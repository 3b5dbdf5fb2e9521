import { createHash } from 'node:crypto';
import { type CacheEntry, ENTRY_VERSION } from '../cache/entry.js';
import { canonicalJson, KEY_VERSION } from '../cache/key.js';
import type { JsonValue, Usage } from '../protocols/types.js';
import { createSseDecoder } from '../sse/decoder.js';
import { encodeSseEvent } from '../sse/encoder.js';
import { LibraryError } from './errors.js';

/**
 * Entries written by getOrStream / getOrCreate: the same versioned CacheEntry format as the
 * gateway's, so they live in the same stores and purge the same way, but under keys no HTTP
 * request can produce (a different prefix), so they never answer a gateway request or the reverse.
 *
 * A stream is an `sse` entry: one `event: chunk` per chunk (data: the serialized chunk as a JSON
 * string, so any serializer output survives SSE line splitting) and a terminal `event: done`
 * carrying the count, so a partial recording can never decode as a whole one.
 */

export type GenericKind = 'stream' | 'create';

/** Marks library entries; the entry format requires a ProtocolName, which has no library member. */
export const CHUNKS_CONTENT_TYPE = 'text/event-stream; charset=utf-8; profile=sluice-chunks';
export const VALUE_CONTENT_TYPE = 'application/json; profile=sluice-value';
const PLACEHOLDER_PROTOCOL = 'openai.chat';

export interface GenericKeyInput {
  kind: GenericKind;
  namespace: string;
  model: string;
  messages: unknown;
  params: unknown;
}

export function genericKey(input: GenericKeyInput): string {
  const material = {
    messages: toJson(input.messages, 'messages'),
    model: input.model,
    params: toJson(input.params ?? {}, 'params'),
  };
  const hash = createHash('sha256').update(
    canonicalJson(['sluice.library', input.kind, input.namespace, material]),
  );
  return `${KEY_VERSION}:lib-${input.kind}:${hash.digest('hex')}`;
}

export interface EntryMetaInput {
  ttlMs: number;
  namespace: string;
  tags: string[];
  model: string;
  usage: Usage | undefined;
}

/** `times[i]`: ms after the first chunk at which chunk i arrived (for realtime replay). */
export function encodeChunkEntry(
  serialized: readonly string[],
  times: readonly number[],
  meta: EntryMetaInput,
): CacheEntry {
  const frames = serialized.map((s) => encodeSseEvent({ event: 'chunk', data: JSON.stringify(s) }));
  frames.push(encodeSseEvent({ event: 'done', data: JSON.stringify({ chunks: serialized.length }) }));
  const ends: number[] = [];
  let offset = 0;
  for (const frame of frames) {
    offset += frame.byteLength;
    ends.push(offset);
  }
  const last = times[times.length - 1] ?? 0;
  return {
    ...baseEntry(meta),
    format: 'sse',
    contentType: CHUNKS_CONTENT_TYPE,
    body: Buffer.concat(frames),
    eventEnds: Uint32Array.from(ends),
    eventTimes: Uint32Array.from([...times, last], (t) => Math.min(Math.max(0, Math.round(t)), 0xffffffff)),
  };
}

export interface DecodedChunks {
  chunks: string[];
  /** Same index as chunks. */
  times: number[];
}

/** The recorded chunks, or undefined when the entry is not a whole library stream recording. */
export function decodeChunkEntry(entry: CacheEntry): DecodedChunks | undefined {
  if (entry.format !== 'sse' || entry.contentType !== CHUNKS_CONTENT_TYPE) return undefined;
  try {
    const events = createSseDecoder().feed(entry.body);
    const terminal = events[events.length - 1];
    if (terminal?.event !== 'done') return undefined;
    const count = (JSON.parse(terminal.data) as { chunks?: unknown }).chunks;
    const chunks: string[] = [];
    for (const event of events.slice(0, -1)) {
      const value: unknown = JSON.parse(event.data);
      if (event.event !== 'chunk' || typeof value !== 'string') return undefined;
      chunks.push(value);
    }
    if (count !== chunks.length) return undefined;
    const times = chunks.map((_, i) => entry.eventTimes?.[i] ?? 0);
    return { chunks, times };
  } catch {
    return undefined;
  }
}

export function encodeValueEntry(serialized: string, meta: EntryMetaInput): CacheEntry {
  return {
    ...baseEntry(meta),
    format: 'json',
    contentType: VALUE_CONTENT_TYPE,
    body: Buffer.from(serialized, 'utf8'),
  };
}

export function decodeValueEntry(entry: CacheEntry): string | undefined {
  if (entry.format !== 'json' || entry.contentType !== VALUE_CONTENT_TYPE) return undefined;
  return Buffer.from(entry.body).toString('utf8');
}

function baseEntry(meta: EntryMetaInput) {
  return {
    version: ENTRY_VERSION,
    protocol: PLACEHOLDER_PROTOCOL,
    createdAt: Date.now(),
    ttlMs: meta.ttlMs,
    model: meta.model,
    usage: meta.usage,
    namespace: meta.namespace,
    tags: meta.tags,
  } as const;
}

/** A plain JSON copy of a key argument; anything JSON cannot express would make keys lie. */
export function toJson(value: unknown, field: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new LibraryError('LIB_INVALID_ARGUMENT', `${field} cannot be serialized to JSON: ${String(err)}`, {
      cause: err,
    });
  }
  if (text === undefined) throw new LibraryError('LIB_INVALID_ARGUMENT', `${field} must be a JSON value`);
  return JSON.parse(text) as JsonValue;
}

/**
 * Token usage found in produced values, for stats: the last `usage` object in OpenAI
 * (`prompt_tokens` / `completion_tokens`, `input_tokens` / `output_tokens`) or Anthropic shape.
 */
export function findUsage(values: readonly unknown[]): Usage | undefined {
  let input: number | undefined;
  let output: number | undefined;
  for (const value of values) {
    const usage = usageField(value);
    if (!usage) continue;
    const i = numberField(usage, 'prompt_tokens') ?? numberField(usage, 'input_tokens');
    const o = numberField(usage, 'completion_tokens') ?? numberField(usage, 'output_tokens');
    if (i !== undefined) input = i;
    if (o !== undefined) output = o;
  }
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

function usageField(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  // Anthropic stream events nest it: message_start.message.usage, message_delta.usage.
  const usage = record.usage ?? (record.message as Record<string, unknown> | undefined)?.usage;
  return typeof usage === 'object' && usage !== null ? (usage as Record<string, unknown>) : undefined;
}

function numberField(record: Record<string, unknown>, name: string): number | undefined {
  const value = record[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
