import { describe, expect, test } from 'vitest';
import { anthropicMessagesProtocol } from '../../src/protocols/anthropic-messages.js';
import { openaiChatProtocol } from '../../src/protocols/openai-chat.js';
import { openaiCompletionsProtocol } from '../../src/protocols/openai-completions.js';
import { openaiResponsesProtocol } from '../../src/protocols/openai-responses.js';
import type { JsonObject, Protocol } from '../../src/protocols/types.js';
import type { SseEventInit } from '../../src/sse/types.js';
import { toEvents, validRequest } from './helpers.js';

/**
 * DESIGN.md rule 7: nothing after the terminal event counts. For every streaming protocol, a
 * complete stream with one more content event after its terminal event is refused by the gate,
 * and JSON assembled from it holds nothing of that event.
 */

const INJECTED = 'INJECTED-AFTER-DONE';

interface Case {
  protocol: Protocol;
  body: JsonObject;
  answer: JsonObject;
}

const cases: Case[] = [
  {
    protocol: openaiChatProtocol,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true },
    answer: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
    },
  },
  {
    protocol: openaiCompletionsProtocol,
    body: { model: 'gpt-3.5-turbo-instruct', prompt: 'hi', stream: true },
    answer: {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ index: 0, text: 'Hello there', logprobs: null, finish_reason: 'stop' }],
    },
  },
  {
    protocol: openaiResponsesProtocol,
    body: { model: 'gpt-4.1', input: 'hi', stream: true },
    answer: {
      id: 'resp_1',
      object: 'response',
      created_at: 1,
      status: 'completed',
      model: 'gpt-4.1',
      output: [
        {
          type: 'message',
          id: 'msg_1',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hello there', annotations: [] }],
        },
      ],
      usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
    },
  },
  {
    protocol: anthropicMessagesProtocol,
    body: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true },
    answer: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 2 },
    },
  },
];

/** A copy of the first content event with its text replaced: what a hostile upstream could append. */
function injectedEvent(events: SseEventInit[]): SseEventInit {
  const content = events.find((e) => e.data.includes('Hello'));
  if (!content) throw new Error('no content event to copy');
  return { ...content, data: content.data.replace(/Hello( there)?/, INJECTED) };
}

describe.each(cases.map((c) => [c.protocol.name, c] as const))('%s', (_name, { protocol, body, answer }) => {
  const request = validRequest(protocol, body);
  const clean = protocol.synthesize(answer, request);
  const terminal = toEvents(clean).at(-1);

  test('the synthesized stream ends with its terminal event, and is complete', () => {
    expect(terminal && protocol.isTerminal(terminal)).toBe(true);
    expect(protocol.inspectStream(toEvents(clean)).complete).toBe(true);
  });

  test('an event after the terminal event makes the stream not storable', () => {
    const verdict = protocol.inspectStream(toEvents([...clean, injectedEvent(clean)]));
    expect(verdict.complete).toBe(false);
    if (!verdict.complete) expect(verdict.reason).toMatch(/after the terminal event/);
  });

  test('JSON assembled from such a stream shows only what came before the terminal event', () => {
    const events = toEvents([...clean, injectedEvent(clean)]);
    const assembled = JSON.stringify(protocol.assemble(events));
    expect(assembled).not.toContain(INJECTED);
    expect(protocol.assemble(events)).toEqual(protocol.assemble(toEvents(clean)));
  });
});
