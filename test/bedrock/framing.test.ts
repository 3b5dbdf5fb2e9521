import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeEntry, encodeEntry } from '../../src/cache/entry-codec.js';
import type { CacheEntry } from '../../src/cache/entry.js';
import { ENTRY_VERSION } from '../../src/cache/entry.js';
import { Recorder } from '../../src/capture/recorder.js';
import { EventStreamError } from '../../src/sse/errors.js';
import { encodeEventStreamMessage } from '../../src/sse/eventstream.js';
import { createEventStreamBoundaryScanner } from '../../src/sse/eventstream-scanner.js';
import { eventStreamFraming, framingForContentType, sseFraming } from '../../src/sse/framing.js';

/** The event-stream framing behind the shared frame contract: boundaries, decoding, naming, encoding. */

const str = (value: string) => ({ type: 'string', value }) as const;

function event(type: string, payload: object): Uint8Array {
  return encodeEventStreamMessage({
    headers: {
      ':event-type': str(type),
      ':content-type': str('application/json'),
      ':message-type': str('event'),
    },
    payload: new TextEncoder().encode(JSON.stringify(payload)),
  });
}

function concat(frames: Uint8Array[]): Buffer {
  return Buffer.concat(frames);
}

const FRAMES = [
  event('messageStart', { role: 'assistant' }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Grüß dich 👋' } }),
  event('messageStop', { stopReason: 'end_turn' }),
  encodeEventStreamMessage({
    headers: {
      ':exception-type': str('throttlingException'),
      ':content-type': str('application/json'),
      ':message-type': str('exception'),
    },
    payload: new TextEncoder().encode('{"message":"slow down"}'),
  }),
];

describe('event-stream boundary scanner', () => {
  test('reports exactly the frame ends, whatever the chunk splits', () => {
    const body = concat(FRAMES);
    const ends: number[] = [];
    let at = 0;
    for (const frame of FRAMES) ends.push((at += frame.length));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: body.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const scanner = createEventStreamBoundaryScanner(1024);
        const seen: number[] = [];
        let from = 0;
        for (const point of [...points, body.length]) {
          seen.push(...scanner.feed(body.subarray(from, point)));
          from = point;
        }
        expect(seen).toEqual(ends);
      }),
    );
  });

  test('refuses a frame length past the bound (the recorder drops the recording)', () => {
    const scanner = createEventStreamBoundaryScanner(32);
    expect(() => scanner.feed(concat(FRAMES))).toThrow(EventStreamError);
    const recorder = new Recorder(1024 * 1024, eventStreamFraming);
    recorder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), 0);
    expect(recorder.dropped).toBe('stream_frame_invalid');
  });
});

describe('event-stream framing', () => {
  test('decodes events with byte spans and names exceptions "exception:<type>"', () => {
    const events = eventStreamFraming.decode(concat(FRAMES));
    expect(events.map((e) => e.event)).toEqual([
      'messageStart',
      'contentBlockDelta',
      'messageStop',
      'exception:throttlingException',
    ]);
    expect(JSON.parse(events[1]?.data ?? '')).toEqual({
      contentBlockIndex: 0,
      delta: { text: 'Grüß dich 👋' },
    });
    expect(events[0]?.start).toBe(0);
    expect(events.at(-1)?.end).toBe(concat(FRAMES).length);
  });

  test('a corrupt CRC or a body ending mid-frame throws a typed error', () => {
    const corrupt = Uint8Array.from(concat(FRAMES));
    // A payload byte of the second frame: only its message CRC can tell.
    const at = (FRAMES[0]?.length ?? 0) + 60;
    corrupt[at] = (corrupt[at] as number) ^ 0x01;
    expect(() => eventStreamFraming.decode(corrupt)).toThrow(
      expect.objectContaining({ code: 'EVENTSTREAM_MESSAGE_CRC' }),
    );
    const cut = concat(FRAMES).subarray(0, concat(FRAMES).length - 3);
    expect(() => eventStreamFraming.decode(cut)).toThrow(
      expect.objectContaining({ code: 'EVENTSTREAM_TRUNCATED' }),
    );
  });

  test('encode reverses decode, exceptions included', () => {
    const events = eventStreamFraming.decode(concat(FRAMES));
    const again = eventStreamFraming.decode(Buffer.concat(events.map((e) => eventStreamFraming.encode(e))));
    expect(again.map(({ event: name, data }) => ({ name, data }))).toEqual(
      events.map(({ event: name, data }) => ({ name, data })),
    );
    expect(
      Buffer.from(eventStreamFraming.encode(events[0] ?? { data: '' })).equals(
        Buffer.from(FRAMES[0] as Uint8Array),
      ),
    ).toBe(true);
  });

  test('content types pick the framing; JSON has none', () => {
    expect(framingForContentType('application/vnd.amazon.eventstream')).toBe(eventStreamFraming);
    expect(framingForContentType('text/event-stream; charset=utf-8')).toBe(sseFraming);
    expect(framingForContentType('application/json')).toBeUndefined();
  });
});

describe('entry codec', () => {
  test('round-trips an event-stream entry', () => {
    const body = concat(FRAMES.slice(0, 3));
    const entry: CacheEntry = {
      version: ENTRY_VERSION,
      format: 'eventstream',
      protocol: 'bedrock.converse',
      contentType: 'application/vnd.amazon.eventstream',
      createdAt: 1_700_000_000_000,
      ttlMs: 60_000,
      model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      usage: { inputTokens: 3, outputTokens: 2 },
      namespace: 'default',
      tags: [],
      body,
      eventEnds: Uint32Array.from(eventStreamFraming.decode(body).map((e) => e.end)),
      eventTimes: Uint32Array.from([0, 5, 9]),
    };
    expect(decodeEntry(encodeEntry(entry))).toEqual({ ...entry, body: new Uint8Array(body) });
  });
});
