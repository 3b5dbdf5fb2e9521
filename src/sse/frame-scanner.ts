/**
 * The one byte-level SSE framer under both the full decoder (decoder.ts) and the boundary-only
 * scanner the Recorder uses (boundary-scanner.ts). It owns everything about where lines and
 * frames end: the UTF-8 BOM (also split across chunks), LF / CRLF / lone CR line endings (a CR
 * that ends a chunk waits for the next byte, because an LF may follow), blank-line frame
 * boundaries and the frame-size bound. It builds no strings; what a line means is the sink's
 * business.
 *
 * Framing rules (the decoder's documentation has the reasons):
 * - A frame is a run of non-blank lines ended by a blank line; its end is just past that blank
 *   line's line ending and the next frame starts there (leading blank lines belong to the next
 *   frame), so frames tile the stream.
 * - A blank line ended by a chunk-final CR is reported on the next feed, at the same offset
 *   whatever the chunking.
 * - A frame longer than `limit` bytes throws SseDecodeError in the feed that crosses the bound,
 *   and every later feed throws it again until reset().
 *
 * With `keepLines`, a line split across feeds is kept (bounded by `limit`) so that the sink sees
 * every non-blank line whole; without it nothing but a few counters is kept between feeds.
 */
import { asBuffer, BOM_LENGTH, bomByteAt, copyBytes, CR, LF, NO_OFFSETS } from './bytes.js';
import { SseDecodeError } from './errors.js';

export interface FrameSink {
  /** A whole non-blank line `bytes[from, to)`, line ending excluded. Called only with `keepLines`. */
  line(bytes: Buffer, from: number, to: number): void;
  /** A frame with at least one non-blank line spans the absolute offsets [start, end). Called only with `keepLines`. */
  frame(start: number, end: number): void;
}

export interface SseFrameScanner {
  /**
   * Absolute end offsets of the frames this chunk completed, in order, without `keepLines` (with
   * it the sink hears of each frame instead); a shared frozen empty array when none.
   */
  feed(chunk: Uint8Array): readonly number[];
  /** Ends the stream: reports an unfinished trailing frame, or null; then resets for reuse. */
  end(): { incompleteBytes: number } | null;
  reset(): void;
  /** Bytes fed so far (absolute offset of the next byte). */
  readonly offset: number;
}

const EMPTY_TAIL = Buffer.alloc(0);
/** Tails that grew past this after a long line are dropped rather than kept for the stream's life. */
const TAIL_KEEP_BYTES = 64 * 1024;
const BOM = Buffer.from([bomByteAt(0), bomByteAt(1), bomByteAt(2)]);

export function createSseFrameScanner(limit: number, sink: FrameSink, keepLines: boolean): SseFrameScanner {
  let consumed = 0;
  let bomDone = false;
  let bomMatched = 0;
  let frameStart = 0;
  let frameHasContent = false;
  /** The current line began in an earlier feed (its bytes are in `tail` when keepLines). */
  let lineHasBytes = false;
  let skipLf = false;
  let pendingBoundary = false;
  let tail: Buffer = EMPTY_TAIL;
  let tailLength = 0;
  let failure: SseDecodeError | undefined;
  /** Frame ends found by the current feed. */
  let found: number[] | undefined;

  function reset(): void {
    consumed = 0;
    bomDone = false;
    bomMatched = 0;
    frameStart = 0;
    frameHasContent = false;
    lineHasBytes = false;
    skipLf = false;
    pendingBoundary = false;
    tail = EMPTY_TAIL;
    tailLength = 0;
    failure = undefined;
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
    throw failure;
  }

  function appendTail(source: Uint8Array, from: number, to: number): void {
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

  function endFrame(end: number): void {
    if (end - frameStart > limit) overflow();
    if (keepLines) sink.frame(frameStart, end);
    else if (found === undefined) found = [end];
    else found.push(end);
    frameStart = end;
    frameHasContent = false;
  }

  /**
   * The line `bytes[pos, eol)` ended; `next` is just past its line ending. A chunk-final CR
   * (`crEndsChunk`) on a blank line defers the frame's end to the next feed. The frame bound is
   * checked where frames end and at the end of each feed, so a long frame throws in the feed
   * that crosses the bound whatever the chunking.
   */
  function endLine(bytes: Buffer, base: number, pos: number, eol: number, next: number, crEndsChunk: boolean): void {
    if (lineHasBytes) {
      lineHasBytes = false;
      if (keepLines) {
        if (base + next - frameStart > limit) overflow();
        appendTail(bytes, pos, eol);
        sink.line(tail, 0, tailLength);
        tailLength = 0;
        if (tail.length > TAIL_KEEP_BYTES) tail = EMPTY_TAIL;
      }
    } else if (eol === pos) {
      if (frameHasContent) {
        if (crEndsChunk) pendingBoundary = true;
        else endFrame(base + next);
      }
    } else {
      frameHasContent = true;
      if (keepLines) sink.line(bytes, pos, eol);
    }
  }

  function feed(chunk: Uint8Array): readonly number[] {
    if (failure) throw failure;
    const length = chunk.length;
    if (length === 0) return NO_OFFSETS;
    found = undefined;
    const bytes = asBuffer(chunk);
    const base = consumed;
    consumed += length;
    let pos = 0;

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
        return NO_OFFSETS; // still a BOM prefix: undecided
      } else {
        // Not a BOM: the bytes matched in earlier feeds start the first line; this feed's are rescanned.
        bomDone = true;
        pos = 0;
        if (matchedBefore > 0) {
          lineHasBytes = true;
          frameHasContent = true;
          if (keepLines) appendTail(BOM, 0, matchedBefore);
        }
      }
    }

    if (skipLf) {
      skipLf = false;
      if (bytes[pos] === LF) pos++;
    }
    if (pendingBoundary) {
      pendingBoundary = false;
      endFrame(base + pos);
    }

    if (bytes.indexOf(CR, pos) === -1) {
      // LF-only chunk (what every LLM provider sends): one memchr per line, and the blank line
      // that ends a frame is usually the very next byte.
      for (let lf = bytes.indexOf(LF, pos); lf !== -1; lf = bytes.indexOf(LF, pos)) {
        if (lf === pos && !lineHasBytes) {
          if (frameHasContent) endFrame(base + lf + 1);
          pos = lf + 1;
          continue;
        }
        if (lineHasBytes) {
          endLine(bytes, base, pos, lf, lf + 1, false);
        } else {
          frameHasContent = true;
          if (keepLines) sink.line(bytes, pos, lf);
        }
        pos = lf + 1;
        if (bytes[pos] === LF) endFrame(base + ++pos);
      }
    } else {
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
        endLine(bytes, base, pos, eol, next, crEndsChunk);
        pos = next;
      }
    }

    if (consumed - frameStart > limit) overflow();
    if (pos < length) {
      lineHasBytes = true;
      frameHasContent = true;
      if (keepLines) appendTail(bytes, pos, length);
    }
    const ends = found ?? NO_OFFSETS;
    found = undefined;
    return ends;
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
