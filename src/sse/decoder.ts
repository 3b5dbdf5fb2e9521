/**
 * Incremental SSE decoder: bytes in, WHATWG events out, with each event's byte span.
 *
 * One pass over bytes, no regex. Lines are found with Buffer's native `indexOf` (memchr) and
 * only field values are decoded to strings, from whole lines, so a multi-byte character split
 * across chunks is decoded correctly. Completed lines are folded into the frame's fields at
 * once; the only bytes kept between feeds are those of an unfinished line.
 *
 * Semantics worth knowing (shared with the boundary scanner, see boundary-scanner.ts):
 * - A frame is a run of non-blank lines ended by a blank line. Its `end` is just past that
 *   blank line's line ending; the next frame `start`s there (blank lines between frames belong
 *   to the start of the next frame), so spans tile the stream.
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
import {
  asBuffer,
  BOM_LENGTH,
  bomByteAt,
  COLON,
  CR,
  copyBytes,
  LF,
  SPACE,
  utf8Slice,
  validateMaxRemainderBytes,
} from './bytes.js';
import { SseDecodeError } from './errors.js';
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
const EMPTY_TAIL = Buffer.alloc(0);
/** Tails that grew past this after a long line are dropped rather than kept for the stream's life. */
const TAIL_KEEP_BYTES = 64 * 1024;

export function createSseDecoder(options: SseDecoderOptions = {}): SseDecoder {
  const limit = validateMaxRemainderBytes(options.maxRemainderBytes);

  let consumed = 0;
  let bomDone = false;
  let bomMatched = 0;
  let frameStart = 0;
  let frameHasContent = false;
  let skipLf = false;
  let pendingBoundary = false;
  let tail: Buffer = EMPTY_TAIL;
  let tailLength = 0;
  let failure: SseDecodeError | undefined;

  let data = '';
  let dataLines = 0;
  let eventType: string | undefined;
  let id: string | undefined;
  let retry: number | undefined;

  function reset(): void {
    consumed = 0;
    bomDone = false;
    bomMatched = 0;
    frameStart = 0;
    frameHasContent = false;
    skipLf = false;
    pendingBoundary = false;
    tail = EMPTY_TAIL;
    tailLength = 0;
    failure = undefined;
    clearFields();
  }

  function clearFields(): void {
    data = '';
    dataLines = 0;
    eventType = undefined;
    id = undefined;
    retry = undefined;
  }

  function overflow(): never {
    failure = new SseDecodeError(
      'SSE_REMAINDER_OVERFLOW',
      `SSE frame starting at byte ${frameStart} exceeds maxRemainderBytes (${limit})`,
      limit,
      frameStart,
    );
    tail = EMPTY_TAIL;
    tailLength = 0;
    clearFields();
    throw failure;
  }

  function appendTail(source: Buffer, from: number, to: number): void {
    const needed = tailLength + (to - from);
    if (needed > tail.length) {
      // Callers have checked the frame bound, so `needed <= limit` and capacity never passes it.
      const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(needed, tail.length * 2, 256)));
      copyBytes(tail, 0, tailLength, grown, 0);
      tail = grown;
    }
    copyBytes(source, from, to, tail, tailLength);
    tailLength = needed;
  }

  function dispatch(end: number, events: SseEvent[] | undefined): SseEvent[] | undefined {
    if (end - frameStart > limit) overflow();
    let out = events;
    if (dataLines > 0) {
      out ??= [];
      out.push({ event: eventType, data, id, retry, start: frameStart, end });
    }
    clearFields();
    frameStart = end;
    frameHasContent = false;
    return out;
  }

  /** Folds one non-blank line `bytes[from, to)` into the current frame's fields. */
  function parseLine(bytes: Buffer, from: number, to: number): void {
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
  }

  function appendData(value: string): void {
    data = dataLines === 0 ? value : `${data}\n${value}`;
    dataLines++;
  }

  function feed(chunk: Uint8Array): SseEvent[] {
    if (failure) throw failure;
    const length = chunk.length;
    if (length === 0) return NO_EVENTS;
    const bytes = asBuffer(chunk);
    const base = consumed;
    consumed += length;
    let pos = 0;
    let events: SseEvent[] | undefined;

    if (!bomDone) {
      const matchedBefore = bomMatched;
      while (bomMatched < BOM_LENGTH && pos < length && bytes[pos] === bomByteAt(bomMatched)) {
        bomMatched++;
        pos++;
      }
      if (bomMatched === BOM_LENGTH) {
        bomDone = true;
        frameStart = BOM_LENGTH;
      } else if (pos === length) {
        return NO_EVENTS; // still a BOM prefix: undecided
      } else {
        // Not a BOM: the bytes matched so far are the start of the first line.
        bomDone = true;
        pos = 0;
        for (let i = 0; i < matchedBefore; i++) appendTail(Buffer.of(bomByteAt(i)), 0, 1);
        if (matchedBefore > 0) frameHasContent = true;
      }
    }

    if (skipLf) {
      skipLf = false;
      if (bytes[pos] === LF) pos++;
    }
    if (pendingBoundary) {
      pendingBoundary = false;
      events = dispatch(base + pos, events);
    }

    let nextLf = bytes.indexOf(LF, pos);
    let nextCr = bytes.indexOf(CR, pos);
    while (pos < length) {
      if (nextLf !== -1 && nextLf < pos) nextLf = bytes.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = bytes.indexOf(CR, pos);
      const eol = nextCr === -1 ? nextLf : nextLf === -1 || nextCr < nextLf ? nextCr : nextLf;
      if (eol === -1) break;
      let next = eol + 1;
      let crEndsChunk = false;
      if (eol === nextCr) {
        if (next < length) {
          if (bytes[next] === LF) next++;
        } else {
          crEndsChunk = true;
          skipLf = true;
        }
      }
      if (base + next - frameStart > limit) overflow();
      if (tailLength > 0) {
        appendTail(bytes, pos, eol);
        frameHasContent = true;
        parseLine(tail, 0, tailLength);
        tailLength = 0;
        if (tail.length > TAIL_KEEP_BYTES) tail = EMPTY_TAIL;
      } else if (eol === pos) {
        if (frameHasContent) {
          if (crEndsChunk) pendingBoundary = true;
          else events = dispatch(base + next, events);
        }
      } else {
        frameHasContent = true;
        parseLine(bytes, pos, eol);
      }
      pos = next;
    }

    if (pos < length) {
      if (consumed - frameStart > limit) overflow();
      appendTail(bytes, pos, length);
      frameHasContent = true;
    }
    return events ?? NO_EVENTS;
  }

  function end(): { incompleteBytes: number } | null {
    let result: { incompleteBytes: number } | null = null;
    if (failure) result = { incompleteBytes: consumed - failure.frameStart };
    else if (!bomDone && bomMatched > 0) result = { incompleteBytes: bomMatched };
    else if (frameHasContent) result = { incompleteBytes: consumed - frameStart };
    reset();
    return result;
  }

  return {
    feed,
    end,
    reset,
    get offset() {
      return consumed;
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
