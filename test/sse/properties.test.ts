import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cuts, lfSseStream, sseStream } from './arbitraries.js';
import { decodePieces, scanPieces } from './helpers.js';
import { referenceDecode, splitAt } from './reference.js';

const runs = { numRuns: Number(process.env.SSE_RUNS ?? 400) };

describe('SSE decoder properties', () => {
  it('any chunking gives the events, spans and end() of the naive reference', () => {
    fc.assert(
      fc.property(sseStream, cuts, (bytes, cutPoints) => {
        const expected = referenceDecode(bytes);
        const actual = decodePieces(splitAt(bytes, cutPoints));
        expect(actual.events).toEqual(expected.events);
        expect(actual.incomplete).toEqual(expected.incomplete);
      }),
      runs,
    );
  });

  it('byte-at-a-time feeding equals feeding all at once', () => {
    fc.assert(
      fc.property(sseStream, (bytes) => {
        const whole = decodePieces([bytes]);
        const single = decodePieces([...bytes].map((b) => Uint8Array.of(b)));
        expect(single).toEqual(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('agrees with eventsource-parser on data, event and id', () => {
    fc.assert(
      fc.property(sseStream, (bytes) => {
        const theirs: EventSourceMessage[] = [];
        const parser = createParser({ onEvent: (event) => theirs.push(event) });
        parser.feed(new TextDecoder().decode(bytes));
        const ours = decodePieces([bytes]).events;
        expect(ours.map((e) => ({ id: e.id, event: e.event, data: e.data }))).toEqual(
          theirs.map((e) => ({ id: e.id, event: e.event, data: e.data })),
        );
      }),
      runs,
    );
  });
});

describe('SSE boundary scanner properties', () => {
  it('any chunking gives the reference boundaries and end()', () => {
    fc.assert(
      fc.property(sseStream, cuts, (bytes, cutPoints) => {
        const expected = referenceDecode(bytes);
        const actual = scanPieces(splitAt(bytes, cutPoints));
        expect(actual.boundaries).toEqual(expected.boundaries);
        expect(actual.incomplete).toEqual(expected.incomplete);
      }),
      runs,
    );
  });

  it('LF-only streams (the fast path) give the reference boundaries under any chunking', () => {
    fc.assert(
      fc.property(lfSseStream, cuts, (bytes, cutPoints) => {
        const expected = referenceDecode(bytes);
        expect(scanPieces(splitAt(bytes, cutPoints))).toEqual({
          boundaries: expected.boundaries,
          incomplete: expected.incomplete,
        });
        expect(decodePieces(splitAt(bytes, cutPoints)).events).toEqual(expected.events);
      }),
      runs,
    );
  });

  it('every decoded event ends on a scanner boundary, under independent chunkings', () => {
    fc.assert(
      fc.property(sseStream, cuts, cuts, (bytes, decoderCuts, scannerCuts) => {
        const events = decodePieces(splitAt(bytes, decoderCuts)).events;
        const { boundaries } = scanPieces(splitAt(bytes, scannerCuts));
        const boundarySet = new Set(boundaries);
        for (const event of events) expect(boundarySet.has(event.end)).toBe(true);
        // Boundaries are strictly increasing, and each event starts at the previous boundary.
        for (let i = 1; i < boundaries.length; i++) {
          expect(boundaries[i]).toBeGreaterThan(boundaries[i - 1] ?? -1);
        }
        for (const event of events) {
          const index = boundaries.indexOf(event.end);
          const previous = index > 0 ? (boundaries[index - 1] ?? 0) : bytes[0] === 0xef ? 3 : 0;
          expect(event.start).toBe(previous);
        }
      }),
      runs,
    );
  });
});
