import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRecordedEvents } from '../../src/sse/recorded-events.js';
import { cuts, sseStream } from './arbitraries.js';
import { decodePieces, scanPieces, utf8 } from './helpers.js';
import { splitAt } from './reference.js';

const runs = { numRuns: Number(process.env.SSE_RUNS ?? 400) };

describe('SSE events read back from recorded frame ends', () => {
  it('are the decoder events (data, event, end), from boundaries found under any chunking', () => {
    fc.assert(
      fc.property(sseStream, cuts, (bytes, cutPoints) => {
        const { boundaries } = scanPieces(splitAt(bytes, cutPoints));
        const decoded = decodePieces([bytes]).events;
        const read = readRecordedEvents(Buffer.from(bytes), boundaries);
        expect(read.length).toBe(decoded.length);
        decoded.forEach((event, i) => {
          expect(read.data(i)).toBe(event.data);
          expect(read.end(i)).toBe(event.end);
          // eventIs takes the ASCII names protocols use.
          if (event.event !== undefined && /^[\x20-\x7e]+$/.test(event.event)) expect(read.eventIs(i, event.event)).toBe(true);
          expect(read.eventIs(i, `${event.event ?? ''}x`)).toBe(false);
          const single = read.dataStart(i) >= 0;
          expect(single).toBe(!event.data.includes('\n'));
          if (single) expect(Buffer.from(bytes).toString('utf8', read.dataStart(i), read.dataEnd(i))).toBe(event.data);
          expect(read.dataIs(i, '[DONE]')).toBe(event.data === '[DONE]');
        });
      }),
      runs,
    );
  });

  it('skip comment-only frames and a BOM, take the last event line, and treat an empty one as none', () => {
    const text = '\uFEFF: hi\n\nevent: a\nevent: b\ndata: 1\n\nevent:\ndata: [DONE]\r\n\r\n';
    const bytes = utf8(text);
    const read = readRecordedEvents(Buffer.from(bytes), scanPieces([bytes]).boundaries);
    expect(read.length).toBe(2);
    expect([read.eventIs(0, 'a'), read.eventIs(0, 'b'), read.eventIs(1, '')]).toEqual([false, true, false]);
    expect([read.data(0), read.dataIs(1, '[DONE]')]).toEqual(['1', true]);
  });
});
