import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseDecoder } from '../../src/sse/decoder.js';
import { encodeSseEvent, encodeSseEvents } from '../../src/sse/encoder.js';
import { SseEncodeError } from '../../src/sse/errors.js';
import type { SseEventInit } from '../../src/sse/types.js';
import { fieldText } from './arbitraries.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('SSE encoder', () => {
  it('writes the OpenAI / Anthropic wire format', () => {
    expect(text(encodeSseEvent({ event: 'message_stop', data: '{"type":"message_stop"}' }))).toBe(
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
    expect(text(encodeSseEvent({ data: '[DONE]' }))).toBe('data: [DONE]\n\n');
    expect(text(encodeSseEvent({ id: '4', retry: 100, data: '' }))).toBe('id: 4\nretry: 100\ndata:\n\n');
  });

  it('splits data on LF, CRLF and CR into several data lines', () => {
    expect(text(encodeSseEvent({ data: 'a\nb\r\nc\rd\n' }))).toBe(
      'data: a\ndata: b\ndata: c\ndata: d\ndata:\n\n',
    );
  });

  it('rejects CR or LF in event and id, NUL in id, and bad retry values', () => {
    const cases: Array<[SseEventInit, string]> = [
      [{ event: 'a\nb', data: 'x' }, 'event'],
      [{ event: 'a\rb', data: 'x' }, 'event'],
      [{ id: '1\n', data: 'x' }, 'id'],
      [{ id: '\r1', data: 'x' }, 'id'],
      [{ id: 'a\0', data: 'x' }, 'id'],
      [{ retry: -1, data: 'x' }, 'retry'],
      [{ retry: 1.5, data: 'x' }, 'retry'],
    ];
    for (const [init, field] of cases) {
      expect(() => encodeSseEvent(init)).toThrow(SseEncodeError);
      try {
        encodeSseEvent(init);
      } catch (error) {
        expect(error).toMatchObject({ code: 'SSE_INVALID_FIELD', field });
      }
    }
  });

  it('round-trips through the decoder, with spans matching each encoded frame', () => {
    const nonEmpty = fieldText.filter((t) => t !== '');
    const init = fc.record({
      event: fc.option(
        nonEmpty.filter((t) => !t.includes('\0')),
        { nil: undefined },
      ),
      id: fc.option(
        fieldText.filter((t) => !t.includes('\0')),
        { nil: undefined },
      ),
      retry: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
      data: fc
        .array(fieldText, { minLength: 1, maxLength: 4 })
        .chain((lines) => fc.constantFrom('\n', '\r\n', '\r').map((eol) => lines.join(eol))),
    });
    fc.assert(
      fc.property(fc.array(init, { maxLength: 8 }), (inits) => {
        const bytes = encodeSseEvents(inits);
        const events = createSseDecoder().feed(bytes);
        expect(events.map((e) => ({ event: e.event, id: e.id, retry: e.retry, data: e.data }))).toEqual(
          inits.map((i) => ({
            event: i.event,
            id: i.id,
            retry: i.retry,
            data: i.data.split(/\r\n|\r|\n/).join('\n'),
          })),
        );
        let offset = 0;
        inits.forEach((one, index) => {
          const frame = encodeSseEvent(one);
          expect(events[index]?.start).toBe(offset);
          offset += frame.length;
          expect(events[index]?.end).toBe(offset);
        });
      }),
      { numRuns: 300 },
    );
  });
});
