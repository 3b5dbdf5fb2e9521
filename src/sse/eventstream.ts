/**
 * AWS event-stream codec (the binary framing Bedrock streams use):
 *
 *   total length u32 BE | headers length u32 BE | prelude CRC32 (of the 8 bytes before)
 *   headers | payload | message CRC32 (of everything before it)
 *
 * The decoder is incremental: partial frames are kept until complete, never more than one
 * frame's bytes and never more than `maxFrameBytes`. A frame length is checked as soon as its
 * 4 bytes arrive and the prelude CRC as soon as its 12, so a corrupt length cannot make us wait
 * for (or buffer) megabytes of garbage.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { EventStreamError, SseOptionError } from './errors.js';

/** CRC-32 (IEEE, zlib's) of `bytes[from, to)`: Node's native one, on a view (no copy). */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  return zlibCrc32(bytes.subarray(from, to));
}
import { decodeHeaders, type EventStreamHeaders, encodeHeaders } from './eventstream-headers.js';

export type { EventStreamHeaders, EventStreamHeaderValue } from './eventstream-headers.js';

export interface EventStreamMessage {
  headers: EventStreamHeaders;
  payload: Uint8Array;
}

export interface EventStreamDecoderOptions {
  /** Largest accepted frame, prelude and CRCs included. Default 16 MiB. */
  maxFrameBytes?: number;
}

export interface EventStreamDecoder {
  /** Messages completed by this chunk, in order. Throws EventStreamError on a corrupt frame. */
  feed(chunk: Uint8Array): EventStreamMessage[];
  /** Ends the stream: reports the bytes of an unfinished frame, or null; then resets for reuse. */
  end(): { incompleteBytes: number } | null;
  reset(): void;
}

const LENGTH_FIELD = 4;
const PRELUDE_LENGTH = 12;
const CRC_LENGTH = 4;
const MIN_FRAME_LENGTH = PRELUDE_LENGTH + CRC_LENGTH;
const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function createEventStreamDecoder(options: EventStreamDecoderOptions = {}): EventStreamDecoder {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < MIN_FRAME_LENGTH) {
    throw new SseOptionError(
      'maxFrameBytes',
      `maxFrameBytes must be an integer >= ${MIN_FRAME_LENGTH}, got ${String(maxFrameBytes)}`,
    );
  }

  // Holds the prelude of a partial frame, then (once the prelude is verified) the whole frame.
  let pending = new Uint8Array(PRELUDE_LENGTH);
  let pendingLength = 0;
  let frameLength = 0;
  let failure: EventStreamError | undefined;

  function fail(error: EventStreamError): never {
    failure = error;
    pending = new Uint8Array(PRELUDE_LENGTH);
    pendingLength = 0;
    throw error;
  }

  function checkedFrameLength(bytes: Uint8Array, at: number): number {
    const length = readUint32(bytes, at);
    if (length < MIN_FRAME_LENGTH || length > maxFrameBytes) {
      fail(
        new EventStreamError(
          'EVENTSTREAM_FRAME_LENGTH',
          `event-stream frame length ${length} is outside ${MIN_FRAME_LENGTH}..${maxFrameBytes}`,
        ),
      );
    }
    return length;
  }

  function checkPrelude(bytes: Uint8Array, at: number, length: number): void {
    if (crc32(bytes, at, at + 8) !== readUint32(bytes, at + 8)) {
      fail(new EventStreamError('EVENTSTREAM_PRELUDE_CRC', 'event-stream prelude CRC mismatch'));
    }
    const headersLength = readUint32(bytes, at + LENGTH_FIELD);
    if (headersLength > length - MIN_FRAME_LENGTH) {
      fail(
        new EventStreamError(
          'EVENTSTREAM_HEADER',
          `event-stream headers length ${headersLength} exceeds the frame (${length} bytes)`,
        ),
      );
    }
  }

  function decodeFrame(bytes: Uint8Array, at: number, length: number): EventStreamMessage {
    const crcAt = at + length - CRC_LENGTH;
    if (crc32(bytes, at, crcAt) !== readUint32(bytes, crcAt)) {
      fail(new EventStreamError('EVENTSTREAM_MESSAGE_CRC', 'event-stream message CRC mismatch'));
    }
    const headersEnd = at + PRELUDE_LENGTH + readUint32(bytes, at + LENGTH_FIELD);
    let headers: EventStreamHeaders;
    try {
      headers = decodeHeaders(bytes, at + PRELUDE_LENGTH, headersEnd);
    } catch (error) {
      if (error instanceof EventStreamError) fail(error);
      throw error;
    }
    return { headers, payload: bytes.slice(headersEnd, crcAt) };
  }

  function feed(chunk: Uint8Array): EventStreamMessage[] {
    if (failure) throw failure;
    const messages: EventStreamMessage[] = [];
    const length = chunk.length;
    let pos = 0;
    while (pos < length) {
      if (pendingLength === 0 && length - pos >= PRELUDE_LENGTH) {
        // Whole frames straight from the chunk, without copying them first.
        const total = checkedFrameLength(chunk, pos);
        checkPrelude(chunk, pos, total);
        if (length - pos >= total) {
          messages.push(decodeFrame(chunk, pos, total));
          pos += total;
          continue;
        }
      }
      const target =
        pendingLength < LENGTH_FIELD
          ? LENGTH_FIELD
          : pendingLength < PRELUDE_LENGTH
            ? PRELUDE_LENGTH
            : frameLength;
      const take = Math.min(target - pendingLength, length - pos);
      pending.set(chunk.subarray(pos, pos + take), pendingLength);
      pendingLength += take;
      pos += take;
      if (pendingLength === LENGTH_FIELD) {
        frameLength = checkedFrameLength(pending, 0);
      } else if (pendingLength === PRELUDE_LENGTH && pending.length === PRELUDE_LENGTH) {
        checkPrelude(pending, 0, frameLength);
        const whole = new Uint8Array(frameLength);
        whole.set(pending);
        pending = whole;
      } else if (pendingLength === frameLength) {
        messages.push(decodeFrame(pending, 0, frameLength));
        pending = new Uint8Array(PRELUDE_LENGTH);
        pendingLength = 0;
        frameLength = 0;
      }
    }
    return messages;
  }

  function reset(): void {
    pending = new Uint8Array(PRELUDE_LENGTH);
    pendingLength = 0;
    frameLength = 0;
    failure = undefined;
  }

  function end(): { incompleteBytes: number } | null {
    const result = pendingLength > 0 ? { incompleteBytes: pendingLength } : null;
    reset();
    return result;
  }

  return { feed, end, reset };
}

/** Serializes one message as a complete frame (used by tests and the mock Bedrock upstream). */
export function encodeEventStreamMessage(message: EventStreamMessage): Uint8Array {
  const headers = encodeHeaders(message.headers);
  const total = MIN_FRAME_LENGTH + headers.length + message.payload.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(LENGTH_FIELD, headers.length);
  view.setUint32(8, crc32(out, 0, 8));
  out.set(headers, PRELUDE_LENGTH);
  out.set(message.payload, PRELUDE_LENGTH + headers.length);
  view.setUint32(total - CRC_LENGTH, crc32(out, 0, total - CRC_LENGTH));
  return out;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] ?? 0) << 24) |
      ((bytes[at + 1] ?? 0) << 16) |
      ((bytes[at + 2] ?? 0) << 8) |
      (bytes[at + 3] ?? 0)) >>>
    0
  );
}
