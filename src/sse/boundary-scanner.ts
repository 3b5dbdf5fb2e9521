/**
 * Boundary-only SSE scanner: reports where frames end, creates no strings and keeps no bytes.
 *
 * The capture path records upstream bytes as they pass and only needs frame boundaries (to
 * store event spans and to find the terminal event), so this skips all field decoding. It is
 * the decoder's own frame scanner (frame-scanner.ts) without lines, so every decoder event's
 * `end` is a boundary here, frames longer than `maxRemainderBytes` throw the same SseDecodeError
 * during the same feed, and `end()` reports the same unfinished frame. It also reports frames
 * that produce no event (comment-only frames such as `: keep-alive`, or frames with no `data`
 * line), so boundaries are a superset of event ends.
 */
import { validateMaxRemainderBytes } from './bytes.js';
import { createSseFrameScanner, type FrameSink } from './frame-scanner.js';

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
  return createSseFrameScanner(validateMaxRemainderBytes(options.maxRemainderBytes), LINES_UNUSED, false);
}

/** Without `keepLines` the frame scanner calls no sink. */
const LINES_UNUSED: FrameSink = { line: () => undefined, frame: () => undefined };
