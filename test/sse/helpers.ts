import { createSseBoundaryScanner } from '../../src/sse/boundary-scanner.js';
import { createSseDecoder, type SseDecoderOptions } from '../../src/sse/decoder.js';
import type { SseEvent } from '../../src/sse/types.js';

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

export interface DecodeRun {
  events: SseEvent[];
  incomplete: { incompleteBytes: number } | null;
}

/** Feeds every piece to a fresh decoder, then ends it. */
export function decodePieces(pieces: readonly Uint8Array[], options?: SseDecoderOptions): DecodeRun {
  const decoder = createSseDecoder(options);
  const events: SseEvent[] = [];
  for (const piece of pieces) events.push(...decoder.feed(piece));
  return { events, incomplete: decoder.end() };
}

export function decodeText(text: string): DecodeRun {
  return decodePieces([utf8(text)]);
}

export interface ScanRun {
  boundaries: number[];
  incomplete: { incompleteBytes: number } | null;
}

export function scanPieces(pieces: readonly Uint8Array[]): ScanRun {
  const scanner = createSseBoundaryScanner();
  const boundaries: number[] = [];
  for (const piece of pieces) boundaries.push(...scanner.feed(piece));
  return { boundaries, incomplete: scanner.end() };
}

/** Event without its span, for comparisons where offsets are beside the point. */
export function fields(event: SseEvent): Omit<SseEvent, 'start' | 'end'> {
  return { event: event.event, data: event.data, id: event.id, retry: event.retry };
}
