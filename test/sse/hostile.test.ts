import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseBoundaryScanner } from '../../src/sse/boundary-scanner.js';
import { createSseDecoder } from '../../src/sse/decoder.js';
import { SseDecodeError } from '../../src/sse/errors.js';
import { cuts } from './arbitraries.js';
import { decodePieces, utf8 } from './helpers.js';
import { referenceDecode, splitAt } from './reference.js';

const LIMIT = 64 * 1024;

function expectOverflow(action: () => unknown): SseDecodeError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SseDecodeError);
    expect((error as SseDecodeError).code).toBe('SSE_REMAINDER_OVERFLOW');
    return error as SseDecodeError;
  }
  throw new Error('expected SSE_REMAINDER_OVERFLOW');
}

describe('SSE codec under hostile input', () => {
  it('a line that never ends throws once past the bound, and retained memory stays bounded', () => {
    const decoder = createSseDecoder({ maxRemainderBytes: LIMIT });
    const piece = new Uint8Array(4096).fill(0x61);
    decoder.feed(utf8('data: '));
    const before = process.memoryUsage().arrayBuffers;
    let fed = 6;
    const error = expectOverflow(() => {
      for (;;) {
        decoder.feed(piece);
        fed += piece.length;
        if (fed > LIMIT * 4) throw new Error('no overflow');
      }
    });
    expect(fed).toBeLessThanOrEqual(LIMIT);
    expect(error.limit).toBe(LIMIT);
    // The tail buffer never grew beyond the bound (allowing for unrelated allocator noise).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(LIMIT * 2);
    // The decoder stays failed until reset.
    expect(() => decoder.feed(utf8('\n\n'))).toThrow(SseDecodeError);
    decoder.reset();
    expect(decoder.feed(utf8('data: ok\n\n')).map((e) => e.data)).toEqual(['ok']);
  });

  it('endless data lines without a blank line overflow too (decoder and scanner in the same feed)', () => {
    const decoder = createSseDecoder({ maxRemainderBytes: LIMIT });
    const scanner = createSseBoundaryScanner({ maxRemainderBytes: LIMIT });
    const piece = utf8('data: 0123456789abcdef0123456789abcdef\n'.repeat(100));
    let feeds = 0;
    expectOverflow(() => {
      for (;;) {
        feeds++;
        decoder.feed(piece);
      }
    });
    let scannerFeeds = 0;
    expectOverflow(() => {
      for (;;) {
        scannerFeeds++;
        scanner.feed(piece);
      }
    });
    expect(scannerFeeds).toBe(feeds);
    expect(feeds * piece.length).toBeGreaterThan(LIMIT);
    expect((feeds - 1) * piece.length).toBeLessThanOrEqual(LIMIT);
  });

  it('a whole frame larger than the bound is rejected even when it arrives in one chunk', () => {
    const big = utf8(`data: ${'x'.repeat(LIMIT)}\n\n`);
    expectOverflow(() => createSseDecoder({ maxRemainderBytes: LIMIT }).feed(big));
    expectOverflow(() => createSseBoundaryScanner({ maxRemainderBytes: LIMIT }).feed(big));
    // Exactly at the bound is fine.
    const fits = utf8(`data: ${'x'.repeat(LIMIT - 8)}\n\n`);
    expect(fits.length).toBe(LIMIT);
    expect(createSseDecoder({ maxRemainderBytes: LIMIT }).feed(fits)).toHaveLength(1);
    expect(createSseBoundaryScanner({ maxRemainderBytes: LIMIT }).feed(fits)).toEqual([LIMIT]);
  });

  it('keeps NUL bytes in data and ignores ids containing them', () => {
    const [event] = createSseDecoder().feed(utf8('id: 1\0\ndata: a\0b\n\n'));
    expect(event?.data).toBe('a\0b');
    expect(event?.id).toBeUndefined();
  });

  it('random bytes in random chunks never fail except with the typed overflow, and agree with the scanner', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom(Number.MAX_SAFE_INTEGER, 64, 512),
        cuts,
        (bytes, limit, cutPoints) => {
          const decoder = createSseDecoder({ maxRemainderBytes: limit });
          const scanner = createSseBoundaryScanner({ maxRemainderBytes: limit });
          const ends: number[] = [];
          const boundaries: number[] = [];
          let decoderError: unknown;
          let scannerError: unknown;
          for (const piece of splitAt(bytes, cutPoints)) {
            try {
              if (decoderError === undefined) ends.push(...decoder.feed(piece).map((e) => e.end));
            } catch (error) {
              decoderError = error;
            }
            try {
              if (scannerError === undefined) boundaries.push(...scanner.feed(piece));
            } catch (error) {
              scannerError = error;
            }
            expect(decoderError === undefined).toBe(scannerError === undefined);
          }
          if (decoderError !== undefined) expect(decoderError).toBeInstanceOf(SseDecodeError);
          const boundarySet = new Set(boundaries);
          for (const end of ends) expect(boundarySet.has(end)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes with many line breaks decode like the reference under any chunking', () => {
    const noisy = fc.array(
      fc.oneof(
        fc.constantFrom(0x0a, 0x0d, 0x3a, 0x20, 0x00, 0xef, 0xbb, 0xbf),
        fc.integer({ min: 0, max: 255 }),
      ),
      {
        maxLength: 2000,
      },
    );
    fc.assert(
      fc.property(noisy, cuts, (values, cutPoints) => {
        const bytes = Uint8Array.from(values);
        const expected = referenceDecode(bytes);
        expect(decodePieces(splitAt(bytes, cutPoints))).toEqual({
          events: expected.events,
          incomplete: expected.incomplete,
        });
      }),
      { numRuns: 300 },
    );
  });
});
