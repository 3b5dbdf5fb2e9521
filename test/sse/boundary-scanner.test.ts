import { describe, expect, it } from 'vitest';
import { createSseBoundaryScanner } from '../../src/sse/boundary-scanner.js';
import { decodeText, scanPieces, utf8 } from './helpers.js';

describe('SSE boundary scanner', () => {
  it('reports frame ends, including comment-only frames the decoder does not emit', () => {
    const text = ': keep-alive\n\ndata: a\n\nevent: only-event\n\ndata: b\n\n';
    const { boundaries } = scanPieces([utf8(text)]);
    expect(boundaries).toEqual([14, 23, 42, 51]);
    expect(decodeText(text).events.map((e) => e.end)).toEqual([23, 51]);
  });

  it('does not report runs of blank lines as frames', () => {
    expect(scanPieces([utf8('\n\n\r\n\rdata: a\n\n\n\n\ndata: b\n\n')]).boundaries).toEqual([14, 26]);
  });

  it('joins CR and LF split across chunks into one line ending', () => {
    const scanner = createSseBoundaryScanner();
    expect(scanner.feed(utf8('data: a\r\n\r'))).toEqual([]);
    expect(scanner.feed(utf8('\ndata: b\r\n\r\n'))).toEqual([11, 22]);
    expect(scanner.offset).toBe(22);
  });

  it('reports a frame ended by a chunk-final lone CR on the next feed, at the same offset', () => {
    const scanner = createSseBoundaryScanner();
    expect(scanner.feed(utf8('data: a\r\r'))).toEqual([]);
    expect(scanner.feed(utf8('x'))).toEqual([9]);
  });

  it('skips a BOM split across chunks', () => {
    const { boundaries } = scanPieces([Uint8Array.of(0xef), Uint8Array.of(0xbb, 0xbf), utf8('data: x\n\n')]);
    expect(boundaries).toEqual([12]);
  });

  it('reports an unfinished trailing frame on end(), then starts afresh', () => {
    const scanner = createSseBoundaryScanner();
    scanner.feed(utf8('data: a\n\ndata: b\n'));
    expect(scanner.end()).toEqual({ incompleteBytes: 8 });
    expect(scanner.offset).toBe(0);
    expect(scanner.feed(utf8('data: c\n\n'))).toEqual([9]);
    expect(scanner.end()).toBeNull();
  });

  it('returns a shared frozen empty array when nothing completes', () => {
    const scanner = createSseBoundaryScanner();
    const none = scanner.feed(utf8('data: a'));
    expect(Object.isFrozen(none)).toBe(true);
    expect(scanner.feed(utf8('b'))).toBe(none);
  });
});
