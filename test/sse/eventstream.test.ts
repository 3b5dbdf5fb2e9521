import { describe, expect, it } from 'vitest';
import { EventStreamError } from '../../src/sse/errors.js';
import {
  createEventStreamDecoder,
  type EventStreamMessage,
  encodeEventStreamMessage,
} from '../../src/sse/eventstream.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const allTypes: EventStreamMessage = {
  headers: {
    ':event-type': { type: 'string', value: 'chunk' },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'event' },
    yes: { type: 'boolean', value: true },
    no: { type: 'boolean', value: false },
    byte: { type: 'byte', value: -7 },
    short: { type: 'short', value: -1234 },
    integer: { type: 'integer', value: 2_000_000_000 },
    long: { type: 'long', value: -9_007_199_254_740_993n },
    binary: { type: 'binary', value: Uint8Array.of(0, 1, 254, 255) },
    unicode: { type: 'string', value: 'héllo 世界 🎉' },
    timestamp: { type: 'timestamp', value: new Date('2024-11-21T12:00:00.123Z') },
    uuid: { type: 'uuid', value: '0f8fad5b-d9cb-469f-a165-70867728950e' },
  },
  payload: utf8('{"bytes":"eyJ0eXBlIjoiY29udGVudF9ibG9ja19kZWx0YSJ9"}'),
};
const second: EventStreamMessage = { headers: {}, payload: new Uint8Array(0) };

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function expectCode(action: () => unknown, code: EventStreamError['code']): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EventStreamError);
    expect((error as EventStreamError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('AWS event-stream decoder', () => {
  const stream = concat(encodeEventStreamMessage(allTypes), encodeEventStreamMessage(second));

  it('matches a known-good frame from the AWS spec vectors', () => {
    // "int32_header" vector from awslabs/aws-c-event-stream: header event-type int32 0x0000A00C, payload {'foo':'bar'}.
    const hex =
      '0000002d0000001041c424b80a6576656e742d747970650400' + '00a00c7b27666f6f273a27626172277d36f480a0';
    const [message] = createEventStreamDecoder().feed(Buffer.from(hex, 'hex'));
    expect(message?.headers).toEqual({ 'event-type': { type: 'integer', value: 0xa00c } });
    expect(new TextDecoder().decode(message?.payload)).toBe("{'foo':'bar'}");
  });

  it('decodes every header type and round-trips through the encoder', () => {
    const decoder = createEventStreamDecoder();
    const messages = decoder.feed(stream);
    expect(messages).toEqual([allTypes, second]);
    expect(decoder.end()).toBeNull();
  });

  it('gives the same messages when split at every byte position, and at every pair', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = createEventStreamDecoder();
      const messages = [...decoder.feed(stream.subarray(0, cut)), ...decoder.feed(stream.subarray(cut))];
      expect(messages).toEqual([allTypes, second]);
    }
    const decoder = createEventStreamDecoder();
    const oneByOne = [...stream].flatMap((byte) => decoder.feed(Uint8Array.of(byte)));
    expect(oneByOne).toEqual([allTypes, second]);
  });

  it('reports a partial trailing frame on end()', () => {
    const decoder = createEventStreamDecoder();
    decoder.feed(stream.subarray(0, stream.length - 3));
    expect(decoder.end()).toEqual({ incompleteBytes: 13 });
  });

  it('rejects a corrupted prelude CRC as soon as the prelude is in, split or not', () => {
    const bad = encodeEventStreamMessage(allTypes);
    bad[9] = (bad[9] ?? 0) ^ 0xff;
    expectCode(() => createEventStreamDecoder().feed(bad), 'EVENTSTREAM_PRELUDE_CRC');
    const decoder = createEventStreamDecoder();
    decoder.feed(bad.subarray(0, 5));
    expectCode(() => decoder.feed(bad.subarray(5, 12)), 'EVENTSTREAM_PRELUDE_CRC');
    // Once failed it stays failed until reset.
    expectCode(() => decoder.feed(encodeEventStreamMessage(second)), 'EVENTSTREAM_PRELUDE_CRC');
    decoder.reset();
    expect(decoder.feed(encodeEventStreamMessage(second))).toEqual([second]);
  });

  it('rejects a corrupted payload byte with the message CRC code', () => {
    const bad = encodeEventStreamMessage(allTypes);
    bad[bad.length - 10] = (bad[bad.length - 10] ?? 0) ^ 0x01;
    expectCode(() => createEventStreamDecoder().feed(bad), 'EVENTSTREAM_MESSAGE_CRC');
    const decoder = createEventStreamDecoder();
    decoder.feed(bad.subarray(0, 40));
    expectCode(() => decoder.feed(bad.subarray(40)), 'EVENTSTREAM_MESSAGE_CRC');
  });

  it('rejects impossible lengths (too small, over the bound) after only the length field', () => {
    const tooSmall = Uint8Array.of(0, 0, 0, 15);
    expectCode(() => createEventStreamDecoder().feed(tooSmall), 'EVENTSTREAM_FRAME_LENGTH');
    const huge = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
    expectCode(() => createEventStreamDecoder().feed(huge), 'EVENTSTREAM_FRAME_LENGTH');
    const frame = encodeEventStreamMessage(allTypes);
    expectCode(
      () => createEventStreamDecoder({ maxFrameBytes: frame.length - 1 }).feed(frame),
      'EVENTSTREAM_FRAME_LENGTH',
    );
    expect(createEventStreamDecoder({ maxFrameBytes: frame.length }).feed(frame)).toHaveLength(1);
    expect(() => createEventStreamDecoder({ maxFrameBytes: 8 })).toThrow(/maxFrameBytes/);
  });

  it('rejects bad header blocks with a valid CRC', () => {
    const withHeaders = (headerBytes: Uint8Array): Uint8Array => {
      // Build a frame around raw header bytes by encoding, then swapping the header block and fixing CRCs.
      const frame = encodeEventStreamMessage({ headers: {}, payload: new Uint8Array(0) });
      const total = frame.length + headerBytes.length;
      const out = new Uint8Array(total);
      const view = new DataView(out.buffer);
      view.setUint32(0, total);
      view.setUint32(4, headerBytes.length);
      view.setUint32(8, crc(out.subarray(0, 8)));
      out.set(headerBytes, 12);
      view.setUint32(total - 4, crc(out.subarray(0, total - 4)));
      return out;
    };
    expectCode(
      () => createEventStreamDecoder().feed(withHeaders(Uint8Array.of(1, 0x61, 42))),
      'EVENTSTREAM_HEADER',
    );
    expectCode(
      () => createEventStreamDecoder().feed(withHeaders(Uint8Array.of(1, 0x61, 7, 0, 9, 0x62))),
      'EVENTSTREAM_HEADER',
    );
    expectCode(() => createEventStreamDecoder().feed(withHeaders(Uint8Array.of(0, 0))), 'EVENTSTREAM_HEADER');
    expectCode(
      () => createEventStreamDecoder().feed(withHeaders(Uint8Array.of(1, 0x61, 7, 0, 1, 0xff))),
      'EVENTSTREAM_HEADER',
    );
    expect(
      createEventStreamDecoder().feed(withHeaders(Uint8Array.of(1, 0x61, 7, 0, 1, 0x62)))[0]?.headers,
    ).toEqual({
      a: { type: 'string', value: 'b' },
    });
  });

  it('encoder refuses headers it cannot represent', () => {
    expectCode(
      () =>
        encodeEventStreamMessage({
          headers: { b: { type: 'byte', value: 200 } },
          payload: new Uint8Array(0),
        }),
      'EVENTSTREAM_HEADER',
    );
    expectCode(
      () =>
        encodeEventStreamMessage({
          headers: { u: { type: 'uuid', value: 'nope' } },
          payload: new Uint8Array(0),
        }),
      'EVENTSTREAM_HEADER',
    );
  });
});

import { crc32 as crc } from '../../src/sse/eventstream.js';

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc(new Uint8Array(0))).toBe(0);
  });
});
