/**
 * Boundary-only AWS event-stream scanner: reports where frames end from their length prefixes,
 * keeps at most 3 bytes and checks nothing else. The capture path uses it for arrival times of
 * frames (paced replay); CRCs are checked once, on the whole recording, by the decoder.
 */
import { EventStreamError } from './errors.js';

const MIN_FRAME_LENGTH = 16;

export interface EventStreamBoundaryScanner {
  /** Absolute end offsets of the frames completed by this chunk, in order. */
  feed(chunk: Uint8Array): number[];
}

export function createEventStreamBoundaryScanner(maxFrameBytes: number): EventStreamBoundaryScanner {
  let offset = 0;
  /** Absolute offset where the current frame started. */
  let frameStart = 0;
  /** Length of the current frame once its 4 length bytes arrived; 0 before. */
  let frameLength = 0;
  let lengthBytes = 0;
  let partialLength = 0;

  return {
    feed(chunk) {
      const ends: number[] = [];
      let pos = 0;
      while (pos < chunk.length) {
        if (frameLength === 0) {
          // Still reading the 4-byte big-endian length of the frame that starts at frameStart.
          while (lengthBytes < 4 && pos < chunk.length) {
            partialLength = partialLength * 256 + (chunk[pos] as number);
            lengthBytes++;
            pos++;
          }
          if (lengthBytes < 4) break;
          if (partialLength < MIN_FRAME_LENGTH || partialLength > maxFrameBytes) {
            throw new EventStreamError(
              'EVENTSTREAM_FRAME_LENGTH',
              `event-stream frame length ${partialLength} is outside ${MIN_FRAME_LENGTH}..${maxFrameBytes}`,
            );
          }
          frameLength = partialLength;
        }
        const frameEnd = frameStart + frameLength;
        const available = offset + chunk.length;
        if (frameEnd > available) {
          pos = chunk.length;
          break;
        }
        ends.push(frameEnd);
        pos = frameEnd - offset;
        frameStart = frameEnd;
        frameLength = 0;
        lengthBytes = 0;
        partialLength = 0;
      }
      offset += chunk.length;
      return ends;
    },
  };
}
