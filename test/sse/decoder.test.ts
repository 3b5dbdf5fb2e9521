import { describe, expect, it } from 'vitest';
import { createSseDecoder } from '../../src/sse/decoder.js';
import { SseOptionError } from '../../src/sse/errors.js';
import { decodePieces, decodeText, fields, utf8 } from './helpers.js';

const plain = { event: undefined, id: undefined, retry: undefined };

describe('SSE decoder: WHATWG examples', () => {
  it('joins several data lines with LF', () => {
    const { events } = decodeText('data: YHOO\ndata: +2\ndata: 10\n\n');
    expect(events).toEqual([{ ...plain, data: 'YHOO\n+2\n10', start: 0, end: 30 }]);
  });

  it('handles the comment / id example and drops the unterminated last event', () => {
    const text = ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n';
    const { events, incomplete } = decodeText(text);
    expect(events.map(fields)).toEqual([
      { ...plain, data: 'first event', id: '1' },
      { ...plain, data: 'second event', id: '' },
    ]);
    // The comment-only frame dispatches nothing, but its bytes are a frame: the first event starts after it.
    expect(events[0]?.start).toBe(15);
    expect(incomplete).toEqual({ incompleteBytes: '\ndata:  third event\n'.length - 1 });
  });

  it('dispatches `data` without a colon as an empty string and ignores the unterminated tail', () => {
    const { events, incomplete } = decodeText('data\n\ndata\ndata\n\ndata:');
    expect(events.map((e) => e.data)).toEqual(['', '\n']);
    expect(incomplete).toEqual({ incompleteBytes: 5 });
  });

  it('strips exactly one leading space, so these two events are identical', () => {
    const { events } = decodeText('data:test\n\ndata: test\n\n');
    expect(events.map(fields)).toEqual([
      { ...plain, data: 'test' },
      { ...plain, data: 'test' },
    ]);
    expect(events.map((e) => [e.start, e.end])).toEqual([
      [0, 11],
      [11, 23],
    ]);
    expect(decodeText('data:  two\n\n').events[0]?.data).toBe(' two');
  });
});

describe('SSE decoder: fields', () => {
  it('reads event, id and retry, and resets them per frame', () => {
    const { events } = decodeText('event: add\nid: 7\nretry: 1500\ndata: x\n\ndata: y\n\n');
    expect(events.map(fields)).toEqual([
      { event: 'add', id: '7', retry: 1500, data: 'x' },
      { ...plain, data: 'y' },
    ]);
  });

  it('ignores an id containing NUL, a non-numeric retry and unknown fields', () => {
    const { events } = decodeText('id: a\0b\nretry: 12x\nretry:\nfoo: bar\nDATA: no\ndata: kept\n\n');
    expect(events.map(fields)).toEqual([{ ...plain, data: 'kept' }]);
  });

  it('keeps an earlier id when a later id line in the frame has NUL', () => {
    expect(decodeText('id: 1\nid: 2\0\ndata: x\n\n').events[0]?.id).toBe('1');
  });

  it('does not dispatch a frame without data lines, but `data:` alone dispatches ""', () => {
    const { events } = decodeText('event: ping\n\nid: 3\n\ndata:\n\n');
    expect(events).toEqual([{ ...plain, data: '', start: 20, end: 27 }]);
  });

  it('reports an empty event type as undefined (the default type)', () => {
    expect(decodeText('event:\ndata: x\n\n').events[0]?.event).toBeUndefined();
  });

  it('treats a field without colon as name with empty value', () => {
    expect(decodeText('event\ndata\n\n').events.map(fields)).toEqual([{ ...plain, data: '' }]);
  });
});

describe('SSE decoder: line endings, BOM and spans', () => {
  it('accepts LF, CRLF and lone CR, mixed', () => {
    const { events } = decodeText('data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r');
    // The final frame ends with a lone CR at end of input: it may be a cut CRLF, so it is not trusted.
    expect(events.map((e) => e.data)).toEqual(['a\nb\nc']);
    expect(events[0]?.end).toBe(27);
  });

  it('treats CR at the end of one chunk and LF at the start of the next as one line ending', () => {
    const decoder = createSseDecoder();
    expect(decoder.feed(utf8('data: a\r'))).toEqual([]);
    expect(decoder.feed(utf8('\n\r'))).toEqual([]);
    const events = decoder.feed(utf8('\ndata: b\n\n'));
    expect(events.map((e) => [e.data, e.start, e.end])).toEqual([
      ['a', 0, 11],
      ['b', 11, 20],
    ]);
  });

  it('dispatches a frame ended by a chunk-final lone CR as soon as the next byte arrives', () => {
    const decoder = createSseDecoder();
    expect(decoder.feed(utf8('data: a\r\r'))).toEqual([]);
    expect(decoder.feed(utf8('data: b\r\r')).map((e) => [e.data, e.end])).toEqual([['a', 9]]);
    expect(decoder.end()).toEqual({ incompleteBytes: 9 });
  });

  it('skips a UTF-8 BOM at the start, even split byte by byte, and counts it in offsets', () => {
    const bytes = utf8('\uFEFFdata: x\n\n');
    const pieces = [...bytes].map((b) => Uint8Array.of(b));
    const { events, incomplete } = decodePieces(pieces);
    expect(events).toEqual([{ ...plain, data: 'x', start: 3, end: 12 }]);
    expect(incomplete).toBeNull();
  });

  it('keeps a BOM only at the very start: later it is content', () => {
    const { events } = decodeText('data: a\n\n\uFEFFdata: b\n\n');
    expect(events.map((e) => e.data)).toEqual(['a']);
  });

  it('treats a partial BOM followed by other bytes as line content', () => {
    const { events } = decodePieces([Uint8Array.of(0xef, 0xbb), utf8('data: x\n\n')]);
    expect(events).toEqual([]);
    const tail = decodePieces([Uint8Array.of(0xef), utf8('\n\ndata: y\n\n')]);
    expect(tail.events.map((e) => [e.data, e.start])).toEqual([['y', 3]]);
  });

  it('decodes multi-byte characters split across chunks', () => {
    const bytes = utf8('data: héllo 世界 🎉\n\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      const { events } = decodePieces([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(events.map((e) => e.data)).toEqual(['héllo 世界 🎉']);
    }
  });

  it('spans tile the stream and slice back to the original frames', () => {
    const text = ': hi\n\nevent: a\ndata: 1\n\n\n\ndata: 2\r\n\r\ndata: 3\n\n';
    const bytes = utf8(text);
    const { events } = decodeText(text);
    const slices = events.map((e) => new TextDecoder().decode(bytes.subarray(e.start, e.end)));
    expect(slices).toEqual(['event: a\ndata: 1\n\n', '\n\ndata: 2\r\n\r\n', 'data: 3\n\n']);
  });

  it('returns the same frozen empty array when nothing completes', () => {
    const decoder = createSseDecoder();
    const first = decoder.feed(utf8('data: a'));
    expect(first).toHaveLength(0);
    expect(Object.isFrozen(first)).toBe(true);
    expect(decoder.feed(utf8('bc'))).toBe(first);
  });

  it('reports nothing incomplete when only blank lines trail, and resets on end()', () => {
    const decoder = createSseDecoder();
    decoder.feed(utf8('data: a\n\n\n\n'));
    expect(decoder.offset).toBe(11);
    expect(decoder.end()).toBeNull();
    expect(decoder.offset).toBe(0);
    expect(decoder.feed(utf8('data: b\n\n'))).toEqual([{ ...plain, data: 'b', start: 0, end: 9 }]);
  });

  it('reset() forgets a half-received frame', () => {
    const decoder = createSseDecoder();
    decoder.feed(utf8('event: x\ndata: par'));
    decoder.reset();
    expect(decoder.feed(utf8('data: new\n\n')).map(fields)).toEqual([{ ...plain, data: 'new' }]);
  });

  it('accepts plain Uint8Array views with a byte offset (not only Buffers)', () => {
    const backing = utf8('xxxxdata: v\n\nyyyy');
    const view = new Uint8Array(backing.buffer, 4, 9);
    expect(
      createSseDecoder()
        .feed(view)
        .map((e) => e.data),
    ).toEqual(['v']);
  });

  it('validates its option', () => {
    expect(() => createSseDecoder({ maxRemainderBytes: 0 })).toThrow(/maxRemainderBytes/);
    expect(() => createSseDecoder({ maxRemainderBytes: 1.5 })).toThrow(SseOptionError);
  });
});
