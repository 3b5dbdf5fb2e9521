/**
 * Boundary-only SSE scanner: reports where frames end, creates no strings and keeps no bytes.
 *
 * The capture path records upstream bytes as they pass and only needs frame boundaries (to
 * store event spans and to find the terminal event), so this skips all field decoding.
 *
 * It follows the decoder's framing exactly (see decoder.ts): a frame is a run of non-blank
 * lines ended by a blank line, the reported offset is just past that blank line's line ending,
 * a blank line ended by a chunk-final CR is reported on the next feed, and frames longer than
 * `maxRemainderBytes` throw the same SseDecodeError during the same feed as the decoder would.
 * Every decoder event's `end` is a boundary here. The scanner also reports frames that produce
 * no event (comment-only frames such as `: keep-alive`, or frames with no `data` line), so
 * boundaries are a superset of event ends.
 */
import { asBuffer, BOM_LENGTH, bomByteAt, CR, LF, NO_OFFSETS, validateMaxRemainderBytes } from './bytes.js';
import { SseDecodeError } from './errors.js';

export interface SseBoundaryScannerOptions {
  /** Bound on the bytes of one frame. Default 1 MiB; same meaning as the decoder's. */
  maxRemainderBytes?: number;
}

export interface SseBoundaryScanner {
  /** Absolute end offsets of the frames completed by this chunk, in order (shared frozen empty array when none). */
  feed(chunk: Uint8Array): readonly number[];
  /** Ends the stream: reports an unfinished trailing frame, or null; then resets for reuse. */
  end(): { incompleteBytes: number } | null;
  reset(): void;
  /** Bytes fed so far (absolute offset of the next byte). */
  readonly offset: number;
}

export function createSseBoundaryScanner(options: SseBoundaryScannerOptions = {}): SseBoundaryScanner {
  const limit = validateMaxRemainderBytes(options.maxRemainderBytes);

  let consumed = 0;
  let bomDone = false;
  let bomMatched = 0;
  let frameStart = 0;
  let frameHasContent = false;
  let lineHasBytes = false;
  let skipLf = false;
  let pendingBoundary = false;
  let failure: SseDecodeError | undefined;

  function reset(): void {
    consumed = 0;
    bomDone = false;
    bomMatched = 0;
    frameStart = 0;
    frameHasContent = false;
    lineHasBytes = false;
    skipLf = false;
    pendingBoundary = false;
    failure = undefined;
  }

  function overflow(): never {
    failure = new SseDecodeError(
      'SSE_REMAINDER_OVERFLOW',
      `SSE frame starting at byte ${frameStart} exceeds maxRemainderBytes (${limit})`,
      limit,
      frameStart,
    );
    throw failure;
  }

  function boundary(end: number, found: number[] | undefined): number[] {
    if (end - frameStart > limit) overflow();
    const out = found ?? [];
    out.push(end);
    frameStart = end;
    frameHasContent = false;
    return out;
  }

  function feed(chunk: Uint8Array): readonly number[] {
    if (failure) throw failure;
    const length = chunk.length;
    if (length === 0) return NO_OFFSETS;
    const bytes = asBuffer(chunk);
    const base = consumed;
    consumed += length;
    let pos = 0;
    let found: number[] | undefined;

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
        return NO_OFFSETS;
      } else {
        bomDone = true;
        pos = 0;
        if (matchedBefore > 0) {
          lineHasBytes = true;
          frameHasContent = true;
        }
      }
    }

    if (skipLf) {
      skipLf = false;
      if (bytes[pos] === LF) pos++;
    }
    if (pendingBoundary) {
      pendingBoundary = false;
      found = boundary(base + pos, found);
    }

    if (bytes.indexOf(CR, pos) === -1) {
      // LF-only chunk (what every LLM provider sends): one memchr per line, and a frame's
      // terminating blank line is usually the very next byte.
      let lf = bytes.indexOf(LF, pos);
      while (lf !== -1) {
        if (lf === pos && !lineHasBytes) {
          if (frameHasContent) found = boundary(base + lf + 1, found);
          pos = lf + 1;
        } else {
          lineHasBytes = false;
          frameHasContent = true;
          pos = lf + 1;
          if (bytes[pos] === LF) {
            pos++;
            found = boundary(base + pos, found);
          }
        }
        lf = bytes.indexOf(LF, pos);
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
        if (eol === pos && !lineHasBytes) {
          if (frameHasContent) {
            if (crEndsChunk) pendingBoundary = true;
            else found = boundary(base + next, found);
          }
        } else {
          lineHasBytes = false;
          frameHasContent = true;
        }
        pos = next;
      }
    }

    if (pos < length) {
      lineHasBytes = true;
      frameHasContent = true;
    }
    if (consumed - frameStart > limit) overflow();
    return found ?? NO_OFFSETS;
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
