import { createSseDecoder } from '../sse/decoder.js';
import { encodeSseEvent } from '../sse/encoder.js';
import type { SseEvent } from '../sse/types.js';
import type { CacheabilityCheck, EngineProtocol, JsonObject, JsonVerdict, RequestInfo, StreamVerdict, Usage } from './types.js';

/**
 * The protocols of the library's own entries: getOrStream's chunks and getOrCreate's value.
 * They have their own names (part of every key), so they never answer an HTTP request or the
 * reverse, and an entry says what it is.
 *
 * A chunks recording is an event stream: one `event: chunk` per chunk (data: the serialized chunk
 * as a JSON string, so any serializer output survives SSE line splitting), then a terminal
 * `event: done` carrying the count, so a partial recording can never pass as a whole one.
 * A value recording is the serialized value itself.
 */
export const CHUNKS_CONTENT_TYPE = 'text/event-stream; charset=utf-8; profile=sluice-chunks';
export const VALUE_CONTENT_TYPE = 'application/json; profile=sluice-value';

/** How the call's values become their recorded form's usage: the caller's serializer and usage rule. */
export interface ValueCodec {
  deserialize(text: string): unknown;
  usage(values: readonly unknown[]): Usage | undefined;
}

export function encodeChunkFrame(serialized: string): Uint8Array {
  return encodeSseEvent({ event: 'chunk', data: JSON.stringify(serialized) });
}

export function encodeDoneFrame(count: number): Uint8Array {
  return encodeSseEvent({ event: 'done', data: JSON.stringify({ chunks: count }) });
}

/** The serialized chunks of whole chunk events, in order; the terminal `done` event ends them. */
export function chunkTexts(events: readonly SseEvent[]): { texts: string[]; done: boolean } | undefined {
  const texts: string[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as SseEvent;
    if (event.event === 'done') {
      if (i !== events.length - 1) return undefined;
      const count = (JSON.parse(event.data) as { chunks?: unknown }).chunks;
      return count === texts.length ? { texts, done: true } : undefined;
    }
    if (event.event !== 'chunk') return undefined;
    const value: unknown = JSON.parse(event.data);
    if (typeof value !== 'string') return undefined;
    texts.push(value);
  }
  return { texts, done: false };
}

/** The whole recording's serialized chunks, or undefined when it is not a whole chunks recording. */
export function decodeChunks(body: Uint8Array): string[] | undefined {
  try {
    const found = chunkTexts(createSseDecoder({ maxRemainderBytes: body.byteLength + 1 }).feed(body));
    return found?.done ? found.texts : undefined;
  } catch {
    return undefined;
  }
}

const ALWAYS: CacheabilityCheck = { cacheable: true };

function base(name: 'sluice.chunks' | 'sluice.value') {
  return {
    name,
    cacheability: () => ALWAYS,
    isTerminal: (event: SseEvent) => event.event === 'done',
    // The library builds the request body from exactly its key inputs: messages, model, params.
    keyMaterial: (request: RequestInfo): JsonObject => request.body,
    // Library entries are read only by calls of their own kind (the name is in the key), so
    // there is never a stream-vs-JSON conversion to make.
    assemble: (): JsonObject => ({}),
    synthesize: () => [],
  } as const;
}

export function chunksProtocol(codec: ValueCodec): EngineProtocol {
  return {
    ...base('sluice.chunks'),
    inspectStream(events): StreamVerdict {
      let texts: string[];
      try {
        const found = chunkTexts(events);
        if (!found?.done) return { complete: false, reason: 'no_done_event' };
        texts = found.texts;
      } catch {
        return { complete: false, reason: 'undecodable' };
      }
      return { complete: true, usage: usageOf(codec, texts) };
    },
    inspectJson: () => ({ ok: false, reason: 'not_a_stream' }),
  };
}

export function valueProtocol(codec: ValueCodec): EngineProtocol {
  return {
    ...base('sluice.value'),
    inspectStream: () => ({ complete: false, reason: 'not_a_value' }),
    inspectJson: () => ({ ok: false, reason: 'not_a_value' }),
    inspectBody(body): JsonVerdict {
      return { ok: true, usage: usageOf(codec, [body.toString('utf8')]) };
    },
  };
}

function usageOf(codec: ValueCodec, texts: readonly string[]): Usage | undefined {
  try {
    return codec.usage(texts.map((text) => codec.deserialize(text)));
  } catch {
    return undefined;
  }
}
