/**
 * A deliberately naive reference for the SSE codec: whole input at once, byte by byte, strings
 * via TextDecoder. Property tests compare the fast incremental decoder and scanner against it.
 * It encodes the same framing rules as src/sse/decoder.ts, written the obvious way.
 */
import type { SseEvent } from '../../src/sse/types.js';

export interface ReferenceResult {
  events: SseEvent[];
  /** Ends of every frame with at least one non-blank line (what the boundary scanner reports). */
  boundaries: number[];
  /** What end() should report. */
  incomplete: { incompleteBytes: number } | null;
}

// ignoreBOM: a BOM that is not at the very start of the stream is content, not something to strip.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export function referenceDecode(bytes: Uint8Array): ReferenceResult {
  const events: SseEvent[] = [];
  const boundaries: number[] = [];
  let pos = 0;
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  if (bytes.length < 3 && bytes.every((b, i) => b === [0xef, 0xbb][i])) {
    return { events, boundaries, incomplete: bytes.length > 0 ? { incompleteBytes: bytes.length } : null };
  }
  let frameStart = pos;
  let hasContent = false;
  let dataLines: string[] = [];
  let event: string | undefined;
  let id: string | undefined;
  let retry: number | undefined;

  while (pos < bytes.length) {
    let eol = pos;
    while (eol < bytes.length && bytes[eol] !== 0x0a && bytes[eol] !== 0x0d) eol++;
    if (eol === bytes.length) {
      hasContent = true; // unfinished last line
      break;
    }
    const crAtEnd = bytes[eol] === 0x0d && eol === bytes.length - 1;
    const next = bytes[eol] === 0x0d && bytes[eol + 1] === 0x0a ? eol + 2 : eol + 1;
    if (eol === pos) {
      if (hasContent && !crAtEnd) {
        boundaries.push(next);
        if (dataLines.length > 0) {
          events.push({ event, data: dataLines.join('\n'), id, retry, start: frameStart, end: next });
        }
        dataLines = [];
        event = undefined;
        id = undefined;
        retry = undefined;
        frameStart = next;
        hasContent = false;
      }
    } else {
      hasContent = true;
      const line = decoder.decode(bytes.subarray(pos, eol));
      if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const name = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (name === 'data') dataLines.push(value);
        else if (name === 'event') event = value === '' ? undefined : value;
        else if (name === 'id' && !value.includes('\0')) id = value;
        else if (name === 'retry' && /^[0-9]+$/.test(value)) retry = Number(value);
      }
    }
    pos = next;
  }
  return {
    events,
    boundaries,
    incomplete: hasContent ? { incompleteBytes: bytes.length - frameStart } : null,
  };
}

/** Splits `bytes` at the given cut positions, taken modulo its length (any order, duplicates ignored). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const inRange = bytes.length === 0 ? [] : cuts.map((c) => c % bytes.length).filter((c) => c > 0);
  const points = [...new Set(inRange)].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const cut of points) {
    pieces.push(bytes.subarray(from, cut));
    from = cut;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}
