import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openaiCompletionsProtocol as completions } from '../../src/protocols/openai-completions.js';
import type { JsonObject, RequestInfo } from '../../src/protocols/types.js';
import { dataStream, encodeSse, parseSse, serveSse, toEvents, validRequest } from './helpers.js';

const HEAD = { id: 'cmpl-BxQ9kLmN3pQrStUvWxYz', object: 'text_completion', created: 1753462800 };
const MODEL = 'gpt-3.5-turbo-instruct';
const USAGE = { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 };

/** A chunk as api.openai.com sends it (key order included), with `usage: null` under include_usage. */
const chunk = (text: string, finish: string | null = null, index = 0, logprobs: unknown = null) => ({
  ...HEAD,
  choices: [{ text, index, logprobs, finish_reason: finish }],
  model: MODEL,
  usage: null,
});

const entry = (token: string, logprob: number, offset: number) => ({
  tokens: [token],
  token_logprobs: [logprob],
  top_logprobs: [{ [token]: logprob }],
  text_offset: [offset],
});

/** `echo: false, logprobs: 1, stream_options.include_usage: true`. */
const RECORDED = dataStream([
  chunk(' The', null, 0, entry(' The', -0.5, 26)),
  chunk(' capital', null, 0, entry(' capital', -0.1, 30)),
  chunk(' is', null, 0, entry(' is', -0.01, 38)),
  chunk(' Paris.', null, 0, entry(' Paris.', -0.2, 41)),
  chunk('', 'stop'),
  { ...HEAD, model: MODEL, choices: [], usage: USAGE },
]);

const RECORDED_CHOICE: JsonObject = {
  text: ' The capital is Paris.',
  index: 0,
  logprobs: {
    tokens: [' The', ' capital', ' is', ' Paris.'],
    token_logprobs: [-0.5, -0.1, -0.01, -0.2],
    top_logprobs: [{ ' The': -0.5 }, { ' capital': -0.1 }, { ' is': -0.01 }, { ' Paris.': -0.2 }],
    text_offset: [26, 30, 38, 41],
  },
  finish_reason: 'stop',
};

const RECORDED_JSON: JsonObject = { ...HEAD, model: MODEL, choices: [RECORDED_CHOICE], usage: USAGE };

const TWO_CHOICES = dataStream([
  chunk('Once', null, 0),
  chunk('In', null, 1),
  chunk(' upon', null, 0),
  chunk(' a', null, 1),
  chunk('', 'length', 0),
  chunk('', 'stop', 1),
]);

const withUsage: RequestInfo = { body: {}, model: MODEL, stream: true, wantsStreamUsage: true };
const withoutUsage: RequestInfo = { ...withUsage, wantsStreamUsage: false };
const roundTrip = (answer: JsonObject, request = withUsage) =>
  completions.assemble(toEvents(completions.synthesize(answer, request)));

describe('openai.completions inspectStream', () => {
  it('accepts a complete stream and reports model, usage and the usage chunk', () => {
    expect(completions.inspectStream(parseSse(RECORDED))).toEqual({
      complete: true,
      model: MODEL,
      usage: { inputTokens: 7, outputTokens: 5 },
      usageEventIndex: 5,
    });
    expect(completions.inspectStream(parseSse(TWO_CHOICES))).toEqual({ complete: true, model: MODEL });
  });

  it.each([
    ['without [DONE]', RECORDED.replace('data: [DONE]\n\n', ''), '[DONE]'],
    ['with [DONE] only inside text', dataStream([chunk('data: [DONE]'), chunk('', 'stop')], false), '[DONE]'],
    [
      'with an error mid-stream',
      dataStream([chunk('Hi'), { error: { message: 'overloaded' } }, chunk('', 'stop')]),
      'overloaded',
    ],
    ['with malformed JSON', `data: {"id":"cmpl-1","choi\n\n${dataStream([chunk('', 'stop')])}`, 'event 0'],
    [
      'where one choice never finished',
      TWO_CHOICES.replace(/data: [^\n]*"finish_reason":"stop"[^\n]*\n\n/, ''),
      'choice 1',
    ],
  ])('rejects a stream %s', (_name, text, reason) => {
    expect(completions.inspectStream(parseSse(text))).toEqual({
      complete: false,
      reason: expect.stringContaining(reason),
    });
  });
});

describe('openai.completions assemble', () => {
  it('concatenates text and every legacy logprobs array, keeps usage', () => {
    expect(completions.assemble(parseSse(RECORDED))).toEqual(RECORDED_JSON);
  });

  it('keeps interleaved choices apart', () => {
    const answer = completions.assemble(parseSse(TWO_CHOICES));
    expect(answer.choices).toEqual([
      { text: 'Once upon', index: 0, logprobs: null, finish_reason: 'length' },
      { text: 'In a', index: 1, logprobs: null, finish_reason: 'stop' },
    ]);
    expect(answer).not.toHaveProperty('usage');
  });
});

describe('openai.completions synthesize', () => {
  const plainChoice: JsonObject = {
    text: '\n\nHello  world!',
    index: 0,
    logprobs: null,
    finish_reason: 'length',
  };
  const plain: JsonObject = { ...HEAD, model: MODEL, choices: [plainChoice], usage: USAGE };
  const mismatched: JsonObject = {
    ...RECORDED_JSON,
    choices: [{ ...RECORDED_CHOICE, text: 'bytes that tokens do not spell' }],
  };
  const twoChoices: JsonObject = {
    ...plain,
    choices: [plainChoice, { text: '', index: 1, logprobs: null, finish_reason: 'stop' }],
  };

  it.each([
    ['plain text', plain],
    ['legacy logprobs', RECORDED_JSON],
    ['logprobs whose tokens do not spell the text', mismatched],
    ['two choices, one empty', twoChoices],
  ])('round-trips %s', (_name, answer) => {
    expect(roundTrip(answer)).toEqual(answer);
    expect(completions.inspectStream(toEvents(completions.synthesize(answer, withUsage)))).toMatchObject({
      complete: true,
      usageEventIndex: expect.any(Number),
    });
  });

  it('omits usage (the one field a stream cannot carry) when the client did not ask for it', () => {
    const { usage: _usage, ...rest } = plain;
    expect(roundTrip(plain, withoutUsage)).toEqual(rest);
  });

  it('sends one chunk per logprob token, each with its slice of the parallel arrays', () => {
    const chunks = completions
      .synthesize(RECORDED_JSON, withoutUsage)
      .slice(0, -1)
      .map((event) => JSON.parse(event.data));
    expect(chunks.map((c) => c.choices[0].text)).toEqual([' The', ' capital', ' is', ' Paris.', '']);
    expect(chunks[3].choices[0].logprobs).toEqual(entry(' Paris.', -0.2, 41));
    expect(chunks[4].choices[0]).toEqual({ text: '', index: 0, logprobs: null, finish_reason: 'stop' });
  });
});

describe('openai.completions validate, keyMaterial, inspectJson', () => {
  it.each([
    ['a string', 'Say hi'],
    ['strings', ['a', 'b']],
    ['tokens', [1, 2, 3]],
    ['token arrays', [[1], [2, 3]]],
  ])('accepts a prompt of %s', (_name, prompt) => {
    expect(completions.validate({ model: MODEL, prompt })).toMatchObject({
      ok: true,
      request: { model: MODEL },
    });
  });

  it.each([
    ['missing', undefined],
    ['a number', 5],
    ['mixed strings and tokens', ['a', 1]],
    ['an object', { text: 'hi' }],
  ])('rejects a prompt that is %s with 400 naming `prompt`', (_name, prompt) => {
    expect(completions.validate({ model: MODEL, prompt })).toMatchObject({
      ok: false,
      status: 400,
      param: 'prompt',
    });
  });

  it('checks model and stream like every OpenAI endpoint, and reads include_usage', () => {
    expect(completions.validate({ prompt: 'x' })).toMatchObject({ ok: false, param: 'model' });
    expect(completions.validate({ model: MODEL, prompt: 'x', stream: 1 })).toMatchObject({
      ok: false,
      param: 'stream',
    });
    const body = { model: MODEL, prompt: 'x', stream: true, stream_options: { include_usage: true } };
    expect(validRequest(completions, body)).toMatchObject({ stream: true, wantsStreamUsage: true });
  });

  it('keeps sampling fields in the key material and drops excluded ones', () => {
    const body = {
      model: MODEL,
      prompt: 'x',
      max_tokens: 5,
      temperature: 0,
      suffix: '!',
      echo: true,
      logprobs: 2,
    };
    const noisy = { ...body, stream: true, stream_options: { include_usage: true }, user: 'u' };
    expect(completions.keyMaterial(validRequest(completions, noisy))).toEqual(body);
  });

  it('accepts only real text_completion answers', () => {
    expect(completions.inspectJson(RECORDED_JSON)).toEqual({
      ok: true,
      model: MODEL,
      usage: { inputTokens: 7, outputTokens: 5 },
    });
    expect(completions.inspectJson({ ...RECORDED_JSON, object: 'chat.completion' })).toMatchObject({
      ok: false,
    });
    expect(completions.inspectJson({ error: { message: 'bad' } })).toEqual({
      ok: false,
      reason: 'error body: bad',
    });
    const unfinished = { ...RECORDED_JSON, choices: [{ ...RECORDED_CHOICE, finish_reason: null }] };
    expect(completions.inspectJson(unfinished)).toMatchObject({ ok: false });
  });
});

/** The SDK has no stream accumulator for completions: iterate the chunks and join the text. */
async function sdkRead(sseText: string) {
  const server = await serveSse(sseText);
  try {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
    const stream = await client.completions.create({ model: MODEL, prompt: 'x', stream: true });
    let text = '';
    let finish: string | null = null;
    let usage: unknown;
    for await (const part of stream) {
      text += part.choices[0]?.text ?? '';
      finish = part.choices[0]?.finish_reason ?? finish;
      if (part.usage) usage = part.usage;
    }
    return { text, finish, usage };
  } finally {
    await server.close();
  }
}

describe('openai.completions against the official SDK', () => {
  it('reads a synthesized stream as the original text, finish reason and usage', async () => {
    const result = await sdkRead(encodeSse(completions.synthesize(RECORDED_JSON, withUsage)));
    expect(result).toEqual({ text: ' The capital is Paris.', finish: 'stop', usage: USAGE });
  });

  it('reads a recorded stream as assemble() does', async () => {
    const assembled = completions.assemble(parseSse(RECORDED));
    const [choice] = assembled.choices as JsonObject[];
    expect(await sdkRead(RECORDED)).toEqual({
      text: choice?.text,
      finish: choice?.finish_reason,
      usage: assembled.usage,
    });
  });
});
