import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openaiChatProtocol as chat } from '../../src/protocols/openai-chat.js';
import type { JsonObject, RequestInfo } from '../../src/protocols/types.js';
import { toEvents } from './helpers.js';
import {
  LOGPROB_ENTRIES,
  PARALLEL_TOOL_CALLS_MESSAGE,
  TEXT_WITH_USAGE_JSON,
  USAGE,
} from './openai-chat-fixtures.js';

/**
 * Round trip: assemble(events(synthesize(answer))) deep-equals answer. The only field a stream
 * cannot carry is `usage` when the client did not ask for it (`include_usage` false): it is absent
 * from the synthesized stream, so from what is assembled back.
 */

const withUsage: RequestInfo = { body: {}, model: 'm', stream: true, wantsStreamUsage: true };
const withoutUsage: RequestInfo = { ...withUsage, wantsStreamUsage: false };
const roundTrip = (answer: JsonObject, request = withUsage) =>
  chat.assemble(toEvents(chat.synthesize(answer, request)));
const chunksOf = (answer: JsonObject, request = withUsage) =>
  chat
    .synthesize(answer, request)
    .filter((event) => event.data !== '[DONE]')
    .map((event) => JSON.parse(event.data));

const base = {
  id: 'chatcmpl-xyz',
  object: 'chat.completion',
  created: 1753462800,
  model: 'gpt-4o-mini-2024-07-18',
  service_tier: 'default',
  system_fingerprint: 'fp_34a54ae93c',
  usage: USAGE,
};
const answerWith = (choices: JsonObject[]): JsonObject => ({ ...base, choices });
const choiceWith = (message: JsonObject, finish = 'stop', logprobs: JsonObject | null = null, index = 0) => ({
  index,
  message: { role: 'assistant', content: null, refusal: null, ...message },
  logprobs,
  finish_reason: finish,
});

const ANSWERS: Record<string, JsonObject> = {
  text: TEXT_WITH_USAGE_JSON,
  'parallel tool calls': answerWith([
    { index: 0, message: PARALLEL_TOOL_CALLS_MESSAGE, logprobs: null, finish_reason: 'tool_calls' },
  ]),
  'two choices': answerWith([
    choiceWith({ content: 'Red, said the first.' }),
    choiceWith({ content: 'Blue' }, 'length', null, 1),
  ]),
  logprobs: answerWith([
    choiceWith({ content: 'Hi there.' }, 'stop', { content: LOGPROB_ENTRIES, refusal: null }),
  ]),
  'logprobs that do not spell the content': answerWith([
    choiceWith({ content: 'Hello there.' }, 'stop', { content: LOGPROB_ENTRIES, refusal: null }),
  ]),
  refusal: answerWith([choiceWith({ refusal: "I'm sorry, I can't help with that." })]),
  reasoning: answerWith([choiceWith({ content: 'Hi!', reasoning_content: 'The user greets me.\nReply.' })]),
  'legacy function_call': answerWith([
    choiceWith({
      function_call: { name: 'lookup', arguments: '{"query":"a rather long query string here"}' },
    }),
  ]),
  'empty content cut by length': answerWith([choiceWith({ content: '' }, 'length')]),
  'vLLM-style null and empty optional fields': answerWith([
    choiceWith({ content: 'ok', tool_calls: [], function_call: null, reasoning_content: null }),
  ]),
  'custom tool call and unknown fields': answerWith([
    {
      ...choiceWith({
        annotations: [],
        tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'grep', input: 'a\nb' } }],
      }),
      content_filter_results: {},
    },
  ]),
};

describe('openai.chat synthesize', () => {
  it.each(Object.entries(ANSWERS))('round-trips %s', (_name, answer) => {
    expect(roundTrip(answer)).toEqual(answer);
    expect(chat.inspectStream(toEvents(chat.synthesize(answer, withUsage)))).toMatchObject({
      complete: true,
    });
  });

  it('drops usage (only) when the client did not ask for it', () => {
    const events = chat.synthesize(TEXT_WITH_USAGE_JSON, withoutUsage);
    const { usage: _usage, ...rest } = TEXT_WITH_USAGE_JSON;
    expect(chat.assemble(toEvents(events))).toEqual(rest);
    expect(events.some((event) => event.data.includes('"usage"'))).toBe(false);
    expect(chat.inspectStream(toEvents(events))).toEqual({ complete: true, model: base.model });
  });

  it('frames like OpenAI: usage null on every chunk, a choices:[] usage chunk, then [DONE]', () => {
    const events = chat.synthesize(TEXT_WITH_USAGE_JSON, withUsage);
    expect(events.at(-1)).toEqual({ data: '[DONE]' });
    const chunks = chunksOf(TEXT_WITH_USAGE_JSON);
    expect(chunks.at(-1)).toMatchObject({ object: 'chat.completion.chunk', choices: [], usage: USAGE });
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk).toMatchObject({
        object: 'chat.completion.chunk',
        id: TEXT_WITH_USAGE_JSON.id,
        usage: null,
      });
    }
    const verdict = chat.inspectStream(toEvents(events));
    expect(verdict).toMatchObject({ complete: true, usageEventIndex: events.length - 2 });
  });

  it('sends a role chunk, word-sized content chunks, then a finish chunk with an empty delta', () => {
    const deltas = chunksOf(TEXT_WITH_USAGE_JSON, withoutUsage).map((chunk) => chunk.choices[0]);
    expect(deltas[0]).toMatchObject({
      delta: { role: 'assistant', content: '', refusal: null },
      finish_reason: null,
    });
    expect(deltas.slice(1, -1).map((choice) => choice.delta.content)).toEqual([
      'Hello!',
      ' How',
      ' can',
      ' I',
      ' help?',
    ]);
    expect(deltas.at(-1)).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
  });

  it('sends one chunk per logprob token, carrying its entry, after an empty-arrays first chunk', () => {
    const choices = chunksOf(ANSWERS.logprobs!, withoutUsage).map((chunk) => chunk.choices[0]);
    expect(choices[0].logprobs).toEqual({ content: [], refusal: null });
    expect(choices.slice(1, -1)).toEqual(
      LOGPROB_ENTRIES.map((entry) => ({
        index: 0,
        delta: { content: entry.token },
        logprobs: { content: [entry], refusal: null },
        finish_reason: null,
      })),
    );
  });

  it('opens each tool call with id, type, name and empty arguments, then streams argument fragments', () => {
    const calls = chunksOf(ANSWERS['parallel tool calls']!, withoutUsage)
      .flatMap((chunk) => chunk.choices[0].delta.tool_calls ?? [])
      .filter((call: { index: number }) => call.index === 1);
    expect(calls[0]).toEqual({
      index: 1,
      id: 'call_Mz3c8WyQe5u0LhDa',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.slice(1).every((call: JsonObject) => Object.keys(call).join() === 'index,function')).toBe(
      true,
    );
  });

  it('throws a typed error for an answer without choices', () => {
    expect(() => chat.synthesize({ id: 'x' }, withUsage)).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_MALFORMED_ANSWER' }),
    );
  });

  it('round-trips arbitrary text, tool calls and choices (property)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 60 });
    const toolCall = fc.record({
      id: fc.string({ minLength: 1, maxLength: 12 }),
      type: fc.constant('function'),
      function: fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), arguments: text }),
    });
    const message = fc.record({
      role: fc.constant('assistant'),
      content: fc.option(text, { nil: null }),
      refusal: fc.option(text, { nil: null }),
      tool_calls: fc.option(fc.array(toolCall, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    });
    const finish = fc.constantFrom('stop', 'length', 'tool_calls', 'content_filter');
    const answer = fc
      .array(fc.record({ message, finish_reason: finish }), { minLength: 1, maxLength: 3 })
      .map(
        (choices): JsonObject =>
          answerWith(
            choices.map(({ message: { tool_calls, ...m }, finish_reason }, index) => ({
              index,
              message: tool_calls ? { ...m, tool_calls } : m,
              logprobs: null,
              finish_reason,
            })),
          ),
      );
    fc.assert(
      fc.property(answer, fc.boolean(), (json, usage) => {
        const request = usage ? withUsage : withoutUsage;
        const { usage: _u, ...noUsage } = json;
        expect(roundTrip(json, request)).toEqual(usage ? json : noUsage);
      }),
      { numRuns: 200 },
    );
  });
});
