import { describe, expect, it } from 'vitest';
import { KEY_EXCLUSIONS } from '../../src/protocols/key-exclusions.js';
import { openaiChatProtocol as chat } from '../../src/protocols/openai-chat.js';
import { dataStream, parseSse, validRequest } from './helpers.js';
import {
  LOGPROB_ENTRIES,
  PARALLEL_TOOL_CALLS,
  PARALLEL_TOOL_CALLS_MESSAGE,
  REASONING,
  REFUSAL,
  TEXT_WITH_USAGE,
  TEXT_WITH_USAGE_JSON,
  TWO_CHOICES,
  USAGE,
  WITH_LOGPROBS,
} from './openai-chat-fixtures.js';

const inspect = (text: string) => chat.inspectStream(parseSse(text));
const assembled = (text: string) => chat.assemble(parseSse(text));
const chunk = (content: string, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: finish }],
});

describe('openai.chat inspectStream', () => {
  it('accepts complete recorded streams and reports model, usage and the usage chunk', () => {
    const verdict = inspect(TEXT_WITH_USAGE);
    const events = parseSse(TEXT_WITH_USAGE);
    expect(verdict).toEqual({
      complete: true,
      model: 'gpt-4o-mini-2024-07-18',
      usage: { inputTokens: 19, outputTokens: 9 },
      usageEventIndex: events.length - 2,
    });
    expect(JSON.parse(events[events.length - 2]!.data).choices).toEqual([]);
    for (const text of [PARALLEL_TOOL_CALLS, TWO_CHOICES, WITH_LOGPROBS, REFUSAL]) {
      expect(inspect(text)).toEqual({ complete: true, model: 'gpt-4o-mini-2024-07-18' });
    }
  });

  it('takes usage from a finishing chunk but gives no usageEventIndex when that chunk also has choices', () => {
    expect(inspect(REASONING)).toEqual({
      complete: true,
      model: 'deepseek-reasoner',
      usage: { inputTokens: 11, outputTokens: 14 },
    });
  });

  it('rejects a stream without the terminal [DONE]', () => {
    const cut = TEXT_WITH_USAGE.replace('data: [DONE]\n\n', '');
    expect(inspect(cut)).toEqual({ complete: false, reason: expect.stringContaining('[DONE]') });
  });

  it('rejects a [DONE] frame that never got its blank line (not a whole event)', () => {
    expect(inspect(TEXT_WITH_USAGE.slice(0, -1))).toMatchObject({ complete: false });
  });

  it('rejects an error object mid-stream even when [DONE] follows', () => {
    const error = {
      error: { message: 'The server had an error', type: 'server_error', param: null, code: null },
    };
    const text = dataStream([chunk('Hel'), error, chunk('lo', 'stop')]);
    expect(inspect(text)).toEqual({
      complete: false,
      reason: expect.stringContaining('The server had an error'),
    });
  });

  it('rejects an `event: error` frame', () => {
    const text = `data: ${JSON.stringify(chunk('Hi', 'stop'))}\n\nevent: error\ndata: {"message":"overloaded"}\n\ndata: [DONE]\n\n`;
    expect(inspect(text)).toMatchObject({ complete: false });
  });

  it('does not take a [DONE] inside content as the terminal event', () => {
    const text = dataStream([chunk('data: [DONE]\n\n'), chunk('[DONE]')], false);
    expect(parseSse(text).some((event) => event.data.includes('[DONE]'))).toBe(true);
    expect(inspect(text)).toEqual({ complete: false, reason: expect.stringContaining('[DONE]') });
  });

  it('rejects malformed JSON in any event', () => {
    const text = `data: ${JSON.stringify(chunk('Hi'))}\n\ndata: {"id":"chatcmpl-1","choices":[{"ind\n\ndata: ${JSON.stringify(chunk('', 'stop'))}\n\ndata: [DONE]\n\n`;
    expect(inspect(text)).toEqual({ complete: false, reason: 'event 1 is not a JSON object' });
  });

  it('rejects a stream where one of several choices never finished', () => {
    const unfinished = TWO_CHOICES.replace(/data: [^\n]*"finish_reason":"length"[^\n]*\n\n/, '');
    expect(inspect(unfinished)).toEqual({ complete: false, reason: 'choice 1 never got a finish_reason' });
  });

  it('rejects a stream of nothing but [DONE], and one without choices', () => {
    expect(inspect('data: [DONE]\n\n')).toMatchObject({ complete: false });
    const noChoices = dataStream([{ ...chunk(''), choices: [] }]);
    expect(inspect(noChoices)).toEqual({ complete: false, reason: 'stream had no choices' });
  });
});

describe('openai.chat assemble', () => {
  it('builds the non-stream answer: text, ids, fingerprint, tier, usage; drops obfuscation', () => {
    expect(assembled(TEXT_WITH_USAGE)).toEqual(TEXT_WITH_USAGE_JSON);
  });

  it('concatenates parallel tool-call arguments per call', () => {
    const answer = assembled(PARALLEL_TOOL_CALLS);
    expect(answer.choices).toEqual([
      { index: 0, message: PARALLEL_TOOL_CALLS_MESSAGE, logprobs: null, finish_reason: 'tool_calls' },
    ]);
    expect(answer).not.toHaveProperty('usage');
  });

  it('keeps interleaved choices apart, ordered by index', () => {
    const choices = assembled(TWO_CHOICES).choices;
    expect(choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'Red', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
      {
        index: 1,
        message: { role: 'assistant', content: 'Blue and', refusal: null },
        logprobs: null,
        finish_reason: 'length',
      },
    ]);
  });

  it('collects logprob entries in order', () => {
    const [choice] = assembled(WITH_LOGPROBS).choices as Array<Record<string, unknown>>;
    expect(choice?.logprobs).toEqual({ content: LOGPROB_ENTRIES, refusal: null });
    expect(choice?.message).toEqual({ role: 'assistant', content: 'Hi there.', refusal: null });
  });

  it('concatenates a refusal', () => {
    const [choice] = assembled(REFUSAL).choices as Array<Record<string, unknown>>;
    expect(choice?.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: "I'm sorry, I can't help with that.",
    });
  });

  it('concatenates reasoning_content and takes usage from the finishing chunk', () => {
    const answer = assembled(REASONING);
    expect(answer.model).toBe('deepseek-reasoner');
    expect(answer.usage).toEqual({ prompt_tokens: 11, completion_tokens: 14, total_tokens: 25 });
    expect((answer.choices as Array<Record<string, unknown>>)[0]?.message).toEqual({
      role: 'assistant',
      content: 'Hi!',
      refusal: null,
      reasoning_content: 'The user greets me.',
    });
  });

  it('carries unknown choice, message and tool-call fields through, as the SDK does', () => {
    const text = dataStream([
      {
        ...chunk(''),
        choices: [
          {
            index: 0,
            delta: {
              role: 'assistant',
              annotations: [{ type: 'url_citation' }],
              tool_calls: [
                {
                  index: 0,
                  id: 'call_1',
                  type: 'function',
                  extra: 1,
                  function: { name: 'f', arguments: '{}', strict: true },
                },
              ],
            },
            logprobs: null,
            finish_reason: null,
            content_filter_results: { hate: { filtered: false } },
          },
        ],
        prompt_filter_results: [],
      },
      chunk('', 'tool_calls'),
    ]);
    const answer = assembled(text);
    expect(answer.prompt_filter_results).toEqual([]);
    expect(answer.choices).toEqual([
      {
        index: 0,
        content_filter_results: { hate: { filtered: false } },
        logprobs: null,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: '',
          refusal: null,
          annotations: [{ type: 'url_citation' }],
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              extra: 1,
              function: { name: 'f', arguments: '{}', strict: true },
            },
          ],
        },
      },
    ]);
  });

  it('skips malformed events instead of crashing, and throws a typed error when nothing is usable', () => {
    const text = `data: {"broken\n\n${dataStream([chunk('ok', 'stop')])}`;
    expect((assembled(text).choices as Array<Record<string, unknown>>)[0]?.message).toMatchObject({
      content: 'ok',
    });
    expect(() => assembled('data: [DONE]\n\n')).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_MALFORMED_STREAM' }),
    );
  });
});

describe('openai.chat inspectJson', () => {
  it('accepts a real answer and reports model and usage', () => {
    expect(chat.inspectJson(TEXT_WITH_USAGE_JSON)).toEqual({
      ok: true,
      model: 'gpt-4o-mini-2024-07-18',
      usage: { inputTokens: USAGE.prompt_tokens, outputTokens: USAGE.completion_tokens },
    });
  });

  it('rejects error bodies, other objects, missing choices and unfinished choices', () => {
    const error = {
      error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' },
    };
    expect(chat.inspectJson(error)).toEqual({ ok: false, reason: 'error body: Rate limit reached' });
    expect(chat.inspectJson([])).toMatchObject({ ok: false });
    expect(chat.inspectJson({ ...TEXT_WITH_USAGE_JSON, object: 'text_completion' })).toMatchObject({
      ok: false,
    });
    expect(chat.inspectJson({ ...TEXT_WITH_USAGE_JSON, choices: [] })).toMatchObject({ ok: false });
    const unfinished = {
      ...TEXT_WITH_USAGE_JSON,
      choices: [{ ...TEXT_WITH_USAGE_JSON.choices[0], finish_reason: null }],
    };
    expect(chat.inspectJson(unfinished)).toEqual({ ok: false, reason: 'choice 0 has no finish_reason' });
  });
});

describe('openai.chat validate', () => {
  const good = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

  it('accepts a minimal request and reads stream and include_usage', () => {
    expect(chat.validate(good)).toEqual({
      ok: true,
      request: { body: good, model: 'gpt-4o-mini', stream: false, wantsStreamUsage: false },
    });
    const streaming = { ...good, stream: true, stream_options: { include_usage: true } };
    expect(chat.validate(streaming)).toMatchObject({
      ok: true,
      request: { stream: true, wantsStreamUsage: true },
    });
  });

  it.each([
    ['not an object', 'body', [good]],
    ['model missing', 'model', { messages: good.messages }],
    ['model empty', 'model', { ...good, model: '' }],
    ['model not a string', 'model', { ...good, model: 4 }],
    ['messages missing', 'messages', { model: 'm' }],
    ['messages empty', 'messages', { ...good, messages: [] }],
    ['messages not an array', 'messages', { ...good, messages: 'Hi' }],
    ['message not an object', 'messages[0]', { ...good, messages: ['Hi'] }],
    ['stream not boolean', 'stream', { ...good, stream: 'yes' }],
    ['stream_options not an object', 'stream_options', { ...good, stream_options: true }],
  ])('rejects %s with 400 naming `%s`', (_name, param, body) => {
    const check = chat.validate(body);
    expect(check).toMatchObject({ ok: false, status: 400, param });
    expect(check.ok ? '' : check.message).toContain(param);
  });
});

describe('openai.chat keyMaterial', () => {
  const request = (body: Record<string, unknown>) => validRequest(chat, body);
  const body = {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hi' }],
    temperature: 0.2,
    tools: [{ type: 'function', function: { name: 'f' } }],
    response_format: { type: 'json_object' },
    n: 2,
    seed: 7,
  };

  it('keeps every non-excluded field and ignores every excluded one', () => {
    expect(chat.keyMaterial(request(body))).toEqual(body);
    const noisy = {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
      user: 'u-1',
      metadata: { run: 'a' },
    };
    expect(chat.keyMaterial(request(noisy))).toEqual(body);
    // `store` decides whether the answer's id can be fetched or chained later: key material.
    expect(chat.keyMaterial(request({ ...body, store: true }))).toEqual({ ...body, store: true });
    expect(Object.keys(KEY_EXCLUSIONS['openai.chat'])).toEqual(expect.arrayContaining(['stream', 'user']));
  });
});
