/**
 * Incremental SSE decoder: bytes in, WHATWG events out, with each event's byte span.
 *
 * The byte-level work (BOM, line endings across chunks, frame boundaries, the frame bound) is
 * the shared frame scanner's (frame-scanner.ts), the same one under the Recorder's boundary-only
 * mode, so the two cannot disagree on where a frame ends. This file only gives lines their
 * meaning: field values are decoded to strings from whole lines, so a multi-byte character split
 * across chunks is decoded correctly, and completed lines are folded into the frame's fields at once.
 *
 * Semantics worth knowing (framing rules in frame-scanner.ts):
 * - A frame is a run of non-blank lines ended by a blank line; an event's `start`/`end` are its
 *   frame's span, so spans tile the stream. A frame without a `data` line dispatches nothing.
 * - A blank line ended by a CR that is the last byte of a chunk is dispatched on the next feed,
 *   because an LF may follow (CRLF split across chunks) and the span must not depend on how
 *   the stream was chunked. `end()` reports such a frame as incomplete: the stream may have
 *   been cut inside its line ending, and a cache must not trust it.
 * - `id` and `event` are per frame (like eventsource-parser), not WHATWG's sticky last-event-ID.
 *   An empty `event:` value means the default type and is reported as undefined.
 * - `maxRemainderBytes` bounds one frame's bytes. The decoder keeps at most that much between
 *   feeds; a longer frame throws SseDecodeError whatever the chunking, and the decoder then
 *   refuses further input until reset().
 */
import { COLON, SPACE, utf8Slice, validateMaxRemainderBytes } from './bytes.js';
import { createSseFrameScanner } from './frame-scanner.js';
import type { SseEvent } from './types.js';

export interface SseDecoderOptions {
  /** Bound on the bytes of one frame (and so on what is kept between feeds). Default 1 MiB. */
  maxRemainderBytes?: number;
}

export interface SseDecoder {
  /** Events completed by this chunk, in order. A shared frozen empty array when there are none. */
  feed(chunk: Uint8Array): SseEvent[];
  /**
   * Ends the stream: reports a trailing frame that was never completed (it is not emitted),
   * or null, then resets the decoder for reuse.
   */
  end(): { incompleteBytes: number } | null;
  reset(): void;
  /** Bytes fed so far (absolute offset of the next byte). */
  readonly offset: number;
}

const NO_EVENTS: SseEvent[] = Object.freeze([]) as unknown as SseEvent[];

export function createSseDecoder(options: SseDecoderOptions = {}): SseDecoder {
  const limit = validateMaxRemainderBytes(options.maxRemainderBytes);

  let data = '';
  let dataLines = 0;
  let eventType: string | undefined;
  let id: string | undefined;
  let retry: number | undefined;
  /** Events completed during the current feed. */
  let events: SseEvent[] | undefined;

  function clearFields(): void {
    data = '';
    dataLines = 0;
    eventType = undefined;
    id = undefined;
    retry = undefined;
  }

  function appendData(value: string): void {
    data = dataLines === 0 ? value : `${data}\n${value}`;
    dataLines++;
  }

  const scanner = createSseFrameScanner(
    limit,
    {
      /** Folds one non-blank line `bytes[from, to)` into the current frame's fields. */
      line(bytes, from, to) {
        const first = bytes[from];
        if (first === COLON) return;
        // Fast path for the line that dominates LLM streams.
        if (
          first === 0x64 &&
          to - from >= 5 &&
          bytes[from + 1] === 0x61 &&
          bytes[from + 2] === 0x74 &&
          bytes[from + 3] === 0x61 &&
          bytes[from + 4] === COLON
        ) {
          let valueStart = from + 5;
          if (valueStart < to && bytes[valueStart] === SPACE) valueStart++;
          appendData(valueStart === to ? '' : utf8Slice(bytes, valueStart, to));
          return;
        }
        let colon = from;
        while (colon < to && bytes[colon] !== COLON) colon++;
        const nameLength = colon - from;
        let valueStart = colon < to ? colon + 1 : to;
        if (valueStart < to && bytes[valueStart] === SPACE) valueStart++;
        if (nameLength === 4 && isName(bytes, from, 'data')) {
          appendData(valueStart === to ? '' : utf8Slice(bytes, valueStart, to));
        } else if (nameLength === 5 && isName(bytes, from, 'event')) {
          eventType = valueStart === to ? undefined : utf8Slice(bytes, valueStart, to);
        } else if (nameLength === 2 && isName(bytes, from, 'id')) {
          if (!containsNul(bytes, valueStart, to)) id = utf8Slice(bytes, valueStart, to);
        } else if (nameLength === 5 && isName(bytes, from, 'retry')) {
          const parsed = parseDigits(bytes, valueStart, to);
          if (parsed !== undefined) retry = parsed;
        }
      },
      frame(start, end) {
        if (dataLines > 0) (events ??= []).push({ event: eventType, data, id, retry, start, end });
        clearFields();
      },
    },
    true,
  );

  function feed(chunk: Uint8Array): SseEvent[] {
    events = undefined;
    try {
      scanner.feed(chunk);
    } catch (err) {
      // Past the bound the half-read frame is worthless; do not keep its fields alive.
      clearFields();
      events = undefined;
      throw err;
    }
    const out = events ?? NO_EVENTS;
    events = undefined;
    return out;
  }

  function reset(): void {
    scanner.reset();
    clearFields();
  }

  function end(): { incompleteBytes: number } | null {
    clearFields();
    return scanner.end();
  }

  return {
    feed,
    end,
    reset,
    get offset() {
      return scanner.offset;
    },
  };
}

function isName(bytes: Buffer, from: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if (bytes[from + i] !== name.charCodeAt(i)) return false;
  }
  return true;
}

function containsNul(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] === 0) return true;
  return false;
}

/** The value as a base-10 integer when it is one or more ASCII digits, else undefined. */
function parseDigits(bytes: Buffer, from: number, to: number): number | undefined {
  if (from === to) return undefined;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = (bytes[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}
