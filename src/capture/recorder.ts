import type { FramingName, StreamFraming } from '../sse/framing.js';

/**
 * Keeps the bytes of one upstream answer as they pass, with the arrival time of each frame
 * boundary of a stream (SSE or event-stream, for paced replay). Bounded: past `maxBytes` the recording is dropped and
 * the answer is served but never stored. It never throws into the pipe that feeds it.
 */
export class Recorder {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private readonly scanner: ReturnType<StreamFraming['createScanner']> | undefined;
  private readonly boundaryEnds: number[] = [];
  private readonly boundaryTimes: number[] = [];
  private firstByteAt = -1;
  /** Why the recording was abandoned, when it was. */
  dropped: string | undefined;
  /** The framing the boundaries were found with; undefined for a JSON answer. */
  readonly framing: FramingName | undefined;

  constructor(
    private readonly maxBytes: number,
    framing: StreamFraming | undefined,
  ) {
    // A frame can be as large as the entry may be (a Responses `response.completed` carries the whole answer).
    this.scanner = framing?.createScanner(maxBytes);
    this.framing = framing?.name;
  }

  /**
   * Absolute end offset of every whole frame recorded so far, ascending (a superset of the event
   * ends: SSE comment-only frames count). The gate reads events back from these instead of
   * decoding the stream again.
   */
  get frameEnds(): readonly number[] {
    return this.boundaryEnds;
  }

  get byteLength(): number {
    return this.size;
  }

  push(chunk: Uint8Array, now: number): void {
    if (this.dropped) return;
    if (this.firstByteAt < 0) this.firstByteAt = now;
    if (this.size + chunk.byteLength > this.maxBytes) {
      this.drop('entry_too_large');
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    if (!this.scanner) return;
    try {
      const ends = this.scanner.feed(chunk);
      for (let i = 0; i < ends.length; i++) {
        this.boundaryEnds.push(ends[i] as number);
        this.boundaryTimes.push(now - this.firstByteAt);
      }
    } catch {
      this.drop('stream_frame_invalid');
    }
  }

  drop(reason: string): void {
    if (this.dropped) return;
    this.dropped = reason;
    this.chunks = [];
  }

  /** Everything recorded so far, as one buffer (one copy at most). */
  bytes(): Buffer {
    if (this.chunks.length === 1) {
      const only = this.chunks[0] as Uint8Array;
      return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
    }
    const joined = Buffer.concat(this.chunks, this.size);
    this.chunks = [joined];
    return joined;
  }

  /** Arrival time (ms after the first byte) of the boundary ending at each given offset. */
  timesFor(eventEnds: ArrayLike<number>): Uint32Array {
    const times = new Uint32Array(eventEnds.length);
    let j = 0;
    for (let i = 0; i < eventEnds.length; i++) {
      const end = eventEnds[i] as number;
      while (j < this.boundaryEnds.length && (this.boundaryEnds[j] as number) < end) j++;
      times[i] = Math.min(
        this.boundaryTimes[j] ?? this.boundaryTimes[this.boundaryTimes.length - 1] ?? 0,
        0xffffffff,
      );
    }
    return times;
  }
}
