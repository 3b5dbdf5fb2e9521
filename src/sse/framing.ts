/**
 * The two ways a stream is framed on the wire, behind one shape, so capture, the gate and replay
 * treat "frames" alike: SSE (`text/event-stream`, OpenAI and Anthropic) and the AWS event-stream
 * (`application/vnd.amazon.eventstream`, Bedrock).
 *
 * Protocols see every event as an SseEvent. An event-stream message maps to one as follows, so a
 * protocol can tell events from exceptions by name alone:
 *   `:message-type` event     → event = `:event-type`            (e.g. "contentBlockDelta")
 *   `:message-type` exception → event = "exception:" + `:exception-type`
 *   `:message-type` error     → event = "error:" + `:error-code`
 * and `data` is the payload as UTF-8. Encoding reverses the mapping.
 */
import { createSseBoundaryScanner } from './boundary-scanner.js';
import { createSseDecoder } from './decoder.js';
import { encodeSseEvent } from './encoder.js';
import { EventStreamError } from './errors.js';
import {
  createEventStreamDecoder,
  type EventStreamHeaders,
  type EventStreamMessage,
  encodeEventStreamMessage,
} from './eventstream.js';
import { createEventStreamBoundaryScanner } from './eventstream-scanner.js';
import type { SseEvent, SseEventInit } from './types.js';

export type FramingName = 'sse' | 'eventstream';

export interface StreamFraming {
  readonly name: FramingName;
  /** Content type of streams Sluice synthesizes in this framing. */
  readonly contentType: string;
  matches(contentType: string): boolean;
  /** Reports where whole frames end as bytes arrive (for arrival times); throws past `maxFrameBytes`. */
  createScanner(maxFrameBytes: number): { feed(chunk: Uint8Array): readonly number[] };
  /**
   * Every whole event of a complete recording, with byte spans. Throws a typed codec error on
   * bytes that cannot be trusted (a bad CRC, and for the event-stream a body ending mid-frame).
   */
  decode(body: Uint8Array): SseEvent[];
  encode(event: SseEventInit): Uint8Array;
}

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
export const EVENTSTREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

export const sseFraming: StreamFraming = {
  name: 'sse',
  contentType: SSE_CONTENT_TYPE,
  matches: (contentType) => contentType.toLowerCase().startsWith('text/event-stream'),
  createScanner: (maxFrameBytes) => createSseBoundaryScanner({ maxRemainderBytes: maxFrameBytes }),
  // A trailing incomplete SSE frame is ignored on purpose: only whole events count as proof,
  // and keep-alive comments after the terminal event are harmless.
  decode: (body) => createSseDecoder({ maxRemainderBytes: body.byteLength + 1 }).feed(body),
  encode: encodeSseEvent,
};

export const eventStreamFraming: StreamFraming = {
  name: 'eventstream',
  contentType: EVENTSTREAM_CONTENT_TYPE,
  matches: (contentType) => contentType.toLowerCase().startsWith(EVENTSTREAM_CONTENT_TYPE),
  createScanner: (maxFrameBytes) => createEventStreamBoundaryScanner(maxFrameBytes),
  decode: decodeEventStreamEvents,
  encode: (event) => encodeEventStreamMessage(messageFor(event)),
};

const FRAMINGS: Record<FramingName, StreamFraming> = { sse: sseFraming, eventstream: eventStreamFraming };

/** The framing of a stream answer by its content type; undefined for anything else (JSON). */
export function framingForContentType(contentType: string): StreamFraming | undefined {
  if (sseFraming.matches(contentType)) return sseFraming;
  if (eventStreamFraming.matches(contentType)) return eventStreamFraming;
  return undefined;
}

export function framingByName(name: FramingName): StreamFraming {
  return FRAMINGS[name];
}

const utf8 = new TextDecoder('utf-8');
const textEncoder = new TextEncoder();

function decodeEventStreamEvents(body: Uint8Array): SseEvent[] {
  const decoder = createEventStreamDecoder({ maxFrameBytes: Math.max(16, body.byteLength) });
  const messages = decoder.feed(body);
  const rest = decoder.end();
  // Unlike SSE, a frame cut short is not a keep-alive: the answer did not end cleanly.
  if (rest) {
    throw new EventStreamError(
      'EVENTSTREAM_TRUNCATED',
      `event-stream body ends inside a frame (${rest.incompleteBytes} bytes)`,
    );
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const events: SseEvent[] = [];
  let start = 0;
  for (const message of messages) {
    const end = start + view.getUint32(start);
    events.push({
      event: eventName(message.headers),
      data: utf8.decode(message.payload),
      id: undefined,
      retry: undefined,
      start,
      end,
    });
    start = end;
  }
  return events;
}

function headerString(headers: EventStreamHeaders, name: string): string {
  const header = headers[name];
  return header?.type === 'string' ? header.value : '';
}

function eventName(headers: EventStreamHeaders): string {
  const messageType = headerString(headers, ':message-type');
  if (messageType === 'exception') return `exception:${headerString(headers, ':exception-type')}`;
  if (messageType === 'error') return `error:${headerString(headers, ':error-code')}`;
  return headerString(headers, ':event-type');
}

function messageFor(event: SseEventInit): EventStreamMessage {
  const name = event.event ?? '';
  const str = (value: string) => ({ type: 'string', value }) as const;
  const headers: EventStreamHeaders = name.startsWith('exception:')
    ? {
        ':exception-type': str(name.slice('exception:'.length)),
        ':content-type': str('application/json'),
        ':message-type': str('exception'),
      }
    : { ':event-type': str(name), ':content-type': str('application/json'), ':message-type': str('event') };
  return { headers, payload: textEncoder.encode(event.data) };
}
