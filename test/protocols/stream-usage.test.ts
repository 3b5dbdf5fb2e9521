import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { openaiChatProtocol } from '../../src/protocols/openai-chat.js';
import { openaiCompletionsProtocol } from '../../src/protocols/openai-completions.js';
import type { StreamUsageOption } from '../../src/protocols/types.js';
import { createUsageStripper } from '../../src/replay/usage-strip.js';

const chat = openaiChatProtocol.streamUsage as StreamUsageOption;

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };
const delta = (content: string, usage: boolean) =>
  JSON.stringify({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }], ...(usage ? { usage: null } : {}) });
/** What OpenAI sends without and with include_usage, as SSE text. */
function stream(withUsage: boolean): string {
  const events = [delta('Hel', withUsage), delta('lo', withUsage)];
  if (withUsage) {
    events.push(JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
  }
  return `${events.map((e) => `data: ${e}\n\n`).join('')}data: [DONE]\n\n`;
}

describe('cache.requestStreamUsage: asking for usage and hiding it again', () => {
  test('chat and legacy completions can ask; the others need not', () => {
    expect(openaiCompletionsProtocol.streamUsage).toBeDefined();
    const body = { model: 'm', stream: true, stream_options: { include_obfuscation: false }, messages: [] };
    expect(chat.ask(body)).toEqual({ ...body, stream_options: { include_obfuscation: false, include_usage: true } });
    expect(body.stream_options).toEqual({ include_obfuscation: false });
  });

  test('the stripped stream is exactly what the upstream sends a client that did not ask', () => {
    const stripper = createUsageStripper(chat, 1 << 20);
    const out = Buffer.from(stripper.push(Buffer.from(stream(true)))).toString();
    expect(out).toBe(stream(false));
  });

  test('in any chunking, CRLF included, the output is the same', () => {
    const input = Buffer.from(stream(true).replace(/\n/g, '\r\n'));
    const expected = JSON.stringify(
      stream(false)
        .split('\n\n')
        .filter(Boolean)
        .map((frame) => frame.replace(/^data: /, '')),
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const stripper = createUsageStripper(chat, 1 << 20);
        const pieces: Uint8Array[] = [];
        let from = 0;
        for (const at of [...points, input.length]) {
          pieces.push(stripper.push(input.subarray(from, at)));
          from = at;
        }
        const text = Buffer.concat(pieces).toString().replace(/\r\n/g, '\n');
        const frames = text
          .split('\n\n')
          .filter(Boolean)
          .map((frame) => frame.replace(/^data: /, ''));
        expect(JSON.stringify(frames)).toBe(expected);
      }),
    );
  });

  test('comments and events it keeps pass byte for byte', () => {
    const stripper = createUsageStripper(chat, 1 << 20);
    const input = `: keep-alive\n\ndata:${delta('x', false)}\n\n`;
    expect(Buffer.from(stripper.push(Buffer.from(input))).toString()).toBe(input);
  });
});
