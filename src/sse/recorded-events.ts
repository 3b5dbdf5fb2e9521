/**
 * The events of a complete SSE recording, read back from the frame ends the Recorder's boundary
 * scanner already found, so the gate does not decode the stream a second time. Each frame is
 * complete and contiguous in the recorded body, so reading it needs no state across chunks:
 * only where its lines are and which of them are `event` and `data` fields. No string is built;
 * an event's data stays a byte range of the body (when it is one `data` line, as in every LLM
 * stream), which the protocols' structural JSON checks read in place.
 *
 * Agrees with the decoder (test/sse/recorded-events.test.ts): the same events, in order, with
 * the same `event` and `data`, and `end` = the decoder's `end`.
 */
import { COLON, CR, LF, SPACE } from './bytes.js';
import { createSseDecoder } from './decoder.js';

export interface SseRecordedEvents {
  readonly body: Buffer;
  /** Number of events (frames with at least one `data` line). */
  readonly length: number;
  /** Absolute offset just past event `i`'s frame (the decoder's `end`). */
  end(i: number): number;
  /** Whether event `i`'s `event` field is exactly the ASCII `name` (the last `event` line counts, as in the decoder). */
  eventIs(i: number, name: string): boolean;
  /** Event `i`'s data as bytes `[dataStart, dataEnd)` of the body; -1 when it spans several `data` lines. */
  dataStart(i: number): number;
  dataEnd(i: number): number;
  /** Whether event `i`'s data is exactly `text` (ASCII). */
  dataIs(i: number, text: string): boolean;
  /** Event `i`'s data as the decoder gives it (decoded on demand). */
  data(i: number): string;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
const LINE_FEED = Uint8Array.of(LF);

/**
 * `frameEnds`: every frame end the boundary scanner reported for `body`, ascending. Bytes after
 * the last one are an unfinished frame and, as in the decoder, are no event.
 */
export function readRecordedEvents(body: Buffer, frameEnds: readonly number[]): SseRecordedEvents {
  const count = frameEnds.length;
  const ends = new Int32Array(count);
  const starts = new Int32Array(count);
  const eventFrom = new Int32Array(count);
  const eventTo = new Int32Array(count);
  const dataFrom = new Int32Array(count);
  const dataTo = new Int32Array(count);
  let events = 0;

  const hasCr = body.indexOf(CR) !== -1;
  let nextLf = -2;
  let nextCr = hasCr ? -2 : -1;
  let frameStart = body[0] === UTF8_BOM[0] && body[1] === UTF8_BOM[1] && body[2] === UTF8_BOM[2] ? 3 : 0;

  for (let f = 0; f < count; f++) {
    const frameEnd = frameEnds[f] as number;
    let eventStart = -1;
    let eventEnd = -1;
    let dataStart = -1;
    let dataEnd = -1;
    let dataLines = 0;
    let pos = frameStart;
    while (pos < frameEnd) {
      // Next line ending; the positions only move forward, so the whole body is searched once.
      if (nextLf !== -1 && nextLf < pos) nextLf = body.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = body.indexOf(CR, pos);
      const eol = nextCr === -1 ? nextLf : nextLf === -1 || nextCr < nextLf ? nextCr : nextLf;
      if (eol === -1) break; // cannot happen inside a whole frame; never loop on a bad frame list
      // Inside a whole frame every line ends; a CR followed by an LF is one line ending.
      let next = eol + 1;
      if (eol === nextCr && body[next] === LF) next++;
      if (eol > pos && body[pos] !== COLON) {
        let colon = pos;
        while (colon < eol && body[colon] !== COLON) colon++;
        let valueStart = colon < eol ? colon + 1 : eol;
        if (valueStart < eol && body[valueStart] === SPACE) valueStart++;
        const nameLength = colon - pos;
        if (nameLength === 4 && isName(body, pos, 'data')) {
          dataLines++;
          dataStart = valueStart;
          dataEnd = eol;
        } else if (nameLength === 5 && isName(body, pos, 'event')) {
          eventStart = valueStart;
          eventEnd = eol;
        }
      }
      pos = next;
    }
    if (dataLines > 0) {
      starts[events] = frameStart;
      ends[events] = frameEnd;
      eventFrom[events] = eventStart;
      eventTo[events] = eventEnd;
      dataFrom[events] = dataLines === 1 ? dataStart : -1;
      dataTo[events] = dataLines === 1 ? dataEnd : -1;
      events++;
    }
    frameStart = frameEnd;
  }

  const sameBytes = (from: number, to: number, text: string): boolean => {
    if (from < 0 || to - from !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (body[from + i] !== text.charCodeAt(i)) return false;
    return true;
  };

  return {
    body,
    length: events,
    end: (i) => ends[i] as number,
    // An empty `event:` value is the default type (undefined), which no name equals.
    eventIs: (i, name) => name.length > 0 && sameBytes(eventFrom[i] as number, eventTo[i] as number, name),
    dataStart: (i) => dataFrom[i] as number,
    dataEnd: (i) => dataTo[i] as number,
    dataIs: (i, text) => sameBytes(dataFrom[i] as number, dataTo[i] as number, text),
    data(i) {
      const from = dataFrom[i] as number;
      if (from >= 0) return body.toString('utf8', from, dataTo[i] as number);
      const frame = body.subarray(starts[i] as number, ends[i] as number);
      const decoder = createSseDecoder({ maxRemainderBytes: frame.byteLength + 2 });
      // A frame ending in a lone CR is only dispatched once the next byte shows it is no CRLF.
      const [event] = [...decoder.feed(frame), ...decoder.feed(LINE_FEED)];
      return event?.data ?? '';
    },
  };
}

function isName(bytes: Buffer, from: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (bytes[from + i] !== name.charCodeAt(i)) return false;
  return true;
}
