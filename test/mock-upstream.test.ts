import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './mock-upstream/index.js';

/**
 * The mock is only useful if the official SDKs accept everything it sends, so these tests
 * drive it with `openai` and `@anthropic-ai/sdk` directly (no gateway in between).
 */

let mock: MockUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say something nice.' }] };
const MESSAGES = {
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'Hello!' }],
};
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        unit: { type: 'string', enum: ['c', 'f'] },
      },
      required: ['city'],
    },
  },
};

beforeAll(async () => {
  mock = await startMockUpstream();
  openai = new OpenAI({ apiKey: 'sk-test-openai', baseURL: mock.openaiBaseURL, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: mock.anthropicBaseURL, maxRetries: 0 });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => mock.resetStats());

async function rawPost(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  return fetch(`${mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

async function collectChat(headers: Record<string, string> = {}) {
  const stream = await openai.chat.completions.create(
    { ...CHAT, stream: true, stream_options: { include_usage: true } },
    { headers },
  );
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, finish, usage };
}

describe('OpenAI chat completions', () => {
  it('answers JSON deterministically, differently for a changed field, and records credentials', async () => {
    const first = await openai.chat.completions.create(CHAT);
    const again = await openai.chat.completions.create(CHAT);
    const changed = await openai.chat.completions.create({ ...CHAT, temperature: 0.3 });
    expect(first.object).toBe('chat.completion');
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(first.choices[0]?.message.content?.split(' ').length).toBe(20);
    expect(first.choices[0]?.finish_reason).toBe('stop');
    expect(again).toEqual(first);
    expect(changed.choices[0]?.message.content).not.toBe(first.choices[0]?.message.content);
    expect(first.usage?.total_tokens).toBe(
      (first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0),
    );
    expect(mock.stats.lastRequest?.headers.authorization).toBe('Bearer sk-test-openai');
    expect(mock.stats.lastRequest?.path).toBe('/v1/chat/completions');
  });

  it('streams role, content, finish and usage chunks that add up to the JSON answer', async () => {
    const json = await openai.chat.completions.create(CHAT);
    const streamed = await collectChat();
    expect(streamed.text).toBe(json.choices[0]?.message.content);
    expect(streamed.finish).toBe('stop');
    expect(streamed.usage).toEqual(json.usage);
    expect(mock.stats.completedStreams).toBe(1);
    // role + 20 content + finish + usage + [DONE]
    expect(mock.stats.chunksWritten).toBe(24);
  });

  it('carries usage: null on every chunk only when include_usage is asked', async () => {
    const withUsage = await (
      await rawPost('/v1/chat/completions', {
        ...CHAT,
        stream: true,
        stream_options: { include_usage: true },
      })
    ).text();
    const without = await (await rawPost('/v1/chat/completions', { ...CHAT, stream: true })).text();
    const dataLines = (text: string) => text.split('\n').filter((l) => l.startsWith('data: {'));
    expect(
      dataLines(withUsage)
        .slice(0, -1)
        .every((l) => l.includes('"usage":null')),
    ).toBe(true);
    expect(dataLines(withUsage).at(-1)).toContain('"choices":[]');
    expect(dataLines(without).some((l) => l.includes('"usage"'))).toBe(false);
    expect(without.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('answers with a streamed tool call that the stream helper assembles', async () => {
    const runner = openai.chat.completions.stream(
      { ...CHAT, tools: [WEATHER_TOOL], stream_options: { include_usage: true } },
      { headers: { 'x-mock-tool-call': '1' } },
    );
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    expect(call?.id).toMatch(/^call_/);
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    expect(typeof args.city).toBe('string');
    expect(Number.isInteger(args.days)).toBe(true);
    expect(['c', 'f']).toContain(args.unit);
    // Arguments arrive in several fragments, as from the real API.
    expect(mock.stats.chunksWritten).toBeGreaterThan(6);
  });

  it('calls a tool without the knob when the prompt asks for one', async () => {
    const messages = [{ role: 'user' as const, content: 'Please call a tool for Paris.' }];
    const result = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: [WEATHER_TOOL],
    });
    expect(result.choices[0]?.message.tool_calls).toHaveLength(1);
    expect(result.choices[0]?.message.content).toBeNull();
  });

  it('supports n > 1 with logprobs, in JSON and in the stream', async () => {
    const params = { ...CHAT, n: 2, logprobs: true, top_logprobs: 2 };
    const json = await openai.chat.completions.create(params, { headers: { 'x-mock-words': '6' } });
    expect(json.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(json.choices[0]?.message.content).not.toBe(json.choices[1]?.message.content);
    expect(json.choices[0]?.logprobs?.content).toHaveLength(6);
    expect(json.choices[0]?.logprobs?.content?.[0]?.top_logprobs).toHaveLength(2);
    const final = await openai.chat.completions
      .stream(params, { headers: { 'x-mock-words': '6' } })
      .finalChatCompletion();
    expect(final.choices.map((c) => c.message.content)).toEqual(json.choices.map((c) => c.message.content));
    expect(final.choices[1]?.logprobs?.content?.map((l) => l.token).join('')).toBe(
      json.choices[1]?.message.content,
    );
  });

  it('sends reasoning_content deltas and refusals on request', async () => {
    const stream = await openai.chat.completions.create(
      { ...CHAT, stream: true },
      { headers: { 'x-mock-reasoning': '1', 'x-mock-words': '4' } },
    );
    let reasoning = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
    }
    expect(reasoning.length).toBeGreaterThan(0);
    const refused = await openai.chat.completions
      .stream(CHAT, { headers: { 'x-mock-refusal': '1' } })
      .finalChatCompletion();
    expect(refused.choices[0]?.message.refusal).toMatch(/^I'm sorry/);
    expect(refused.choices[0]?.message.content).toBeNull();
  });

  it('includes multi-byte UTF-8 words in answers', async () => {
    const json = await openai.chat.completions.create(CHAT, { headers: { 'x-mock-words': '80' } });
    expect(json.choices[0]?.message.content).toMatch(/[^\x00-\x7f]/);
  });
});

describe('OpenAI responses, completions, embeddings, models', () => {
  it('streams the Responses event sequence with sequence numbers', async () => {
    const stream = await openai.responses.create(
      { model: 'gpt-4o-mini', input: 'Hi', stream: true },
      { headers: { 'x-mock-words': '3' } },
    );
    const types: string[] = [];
    const sequence: number[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(sequence).toEqual(types.map((_, i) => i));
    const json = await openai.responses.create(
      { model: 'gpt-4o-mini', input: 'Hi' },
      { headers: { 'x-mock-words': '3' } },
    );
    expect(json.output_text).toBe(text);
    expect(json.status).toBe('completed');
  });

  it('assembles finalResponse with list input, reasoning and function calls', async () => {
    const input = [{ role: 'user' as const, content: 'What is the weather?' }];
    const final = await openai.responses
      .stream({ model: 'o4-mini', input }, { headers: { 'x-mock-reasoning': '1' } })
      .finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(final.output_text.length).toBeGreaterThan(0);
    const tool = {
      type: 'function' as const,
      name: 'get_weather',
      parameters: WEATHER_TOOL.function.parameters,
      strict: false,
    };
    const called = await openai.responses
      .stream({ model: 'gpt-4o-mini', input, tools: [tool] }, { headers: { 'x-mock-tool-call': '1' } })
      .finalResponse();
    const item = called.output[0];
    expect(item?.type).toBe('function_call');
    if (item?.type !== 'function_call') throw new Error('expected a function call');
    expect(item.name).toBe('get_weather');
    expect(item.call_id).toMatch(/^call_/);
    expect(typeof (JSON.parse(item.arguments) as { city: unknown }).city).toBe('string');
  });

  it('serves legacy completions as JSON and as a stream', async () => {
    const params = { model: 'gpt-3.5-turbo-instruct', prompt: 'Once upon a time' };
    const json = await openai.completions.create(params);
    expect(json.object).toBe('text_completion');
    const stream = await openai.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(json.choices[0]?.text);
    expect(usage).toEqual(json.usage);
  });

  it('returns deterministic unit vectors, as floats or base64 (the SDK default)', async () => {
    const viaBase64 = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['café', 'naïve', 'café'],
    });
    expect(mock.stats.lastRequest?.body).toMatchObject({ encoding_format: 'base64' });
    const viaFloat = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'café',
      encoding_format: 'float',
      dimensions: 64,
    });
    const [a, b, c] = viaBase64.data.map((d) => d.embedding);
    expect(a).toHaveLength(1536);
    expect(a).toEqual(c);
    expect(a).not.toEqual(b);
    expect(Math.hypot(...(a ?? []))).toBeCloseTo(1, 4);
    expect(viaFloat.data[0]?.embedding).toHaveLength(64);
  });

  it('lists models in the shape of the asking SDK, and 404s unknown paths in OpenAI shape', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    const claude = await anthropic.models.list();
    expect(claude.data[0]?.type).toBe('model');
    const missing = await rawPost('/v1/nothing-here', {});
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('Anthropic messages', () => {
  it('answers JSON with a text block, stop_reason and usage, and records x-api-key', async () => {
    const message = await anthropic.messages.create(MESSAGES);
    expect(message.id).toMatch(/^msg_01/);
    expect(message.content[0]?.type).toBe('text');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(20);
    expect(mock.stats.lastRequest?.headers['x-api-key']).toBe('sk-ant-test');
    expect(mock.stats.lastRequest?.headers['anthropic-version']).toBeDefined();
  });

  it('streams the event sequence and text equal to the JSON answer', async () => {
    const json = await anthropic.messages.create(MESSAGES, { headers: { 'x-mock-words': '3' } });
    const stream = await anthropic.messages.create(
      { ...MESSAGES, stream: true },
      { headers: { 'x-mock-words': '3' } },
    );
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    // The SDK hides `ping`.
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(json.content[0]?.type === 'text' && json.content[0].text).toBe(text);
    const raw = await (await rawPost('/v1/messages', { ...MESSAGES, stream: true })).text();
    expect(raw).toContain('event: ping\ndata: {"type":"ping"}\n\n');
  });

  it('assembles thinking (with signature), text and tool_use in finalMessage', async () => {
    const tools = [
      {
        name: 'get_weather',
        input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
      },
    ];
    const final = await anthropic.messages
      .stream(
        { ...MESSAGES, tools, thinking: { type: 'enabled', budget_tokens: 1024 } },
        { headers: { 'x-mock-tool-call': '1' } },
      )
      .finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(final.stop_reason).toBe('tool_use');
    const [thinking, , toolUse] = final.content;
    expect(thinking?.type === 'thinking' && thinking.signature.length).toBeGreaterThan(10);
    expect(toolUse?.type === 'tool_use' && toolUse.name).toBe('get_weather');
    expect(toolUse?.type === 'tool_use' && typeof (toolUse.input as { city: unknown }).city).toBe('string');
    const json = await anthropic.messages.create(
      { ...MESSAGES, tools, thinking: { type: 'enabled', budget_tokens: 1024 } },
      { headers: { 'x-mock-tool-call': '1' } },
    );
    expect(json.content).toEqual(final.content);
  });

  it('rejects a request without max_tokens the way the API does', async () => {
    const response = await rawPost('/v1/messages', {
      model: 'claude-sonnet-4-6',
      messages: MESSAGES.messages,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('refusals and token limits', () => {
  it('refuses in the shape of each protocol', async () => {
    const headers = { 'x-mock-refusal': '1' };
    const response = await openai.responses
      .stream({ model: 'gpt-4o-mini', input: 'Hi' }, { headers })
      .finalResponse();
    const item = response.output[0];
    expect(item?.type === 'message' && item.content[0]?.type).toBe('refusal');
    const message = await anthropic.messages.stream(MESSAGES, { headers }).finalMessage();
    expect(message.stop_reason).toBe('refusal');
  });

  it("stops at the token limit with each protocol's reason", async () => {
    const chat = await openai.chat.completions
      .stream({ ...CHAT, max_completion_tokens: 4 })
      .finalChatCompletion();
    expect(chat.choices[0]?.finish_reason).toBe('length');
    expect(chat.choices[0]?.message.content?.split(' ')).toHaveLength(4);
    const message = await anthropic.messages.stream({ ...MESSAGES, max_tokens: 4 }).finalMessage();
    expect(message.stop_reason).toBe('max_tokens');
    const stream = await openai.responses.create({
      model: 'gpt-4o-mini',
      input: 'Hi',
      max_output_tokens: 16,
      stream: true,
    });
    let last = '';
    for await (const event of stream) last = event.type;
    expect(last).toBe('response.incomplete');
  });
});

describe('framing knobs', () => {
  it.each<[string, Record<string, string>]>([
    ['CRLF', { 'x-mock-crlf': '1' }],
    ['lone CR', { 'x-mock-cr': '1' }],
    ['3-byte network pieces', { 'x-mock-split': '3' }],
    [
      '1-byte pieces with keep-alive comments',
      { 'x-mock-split': '1', 'x-mock-keepalive': '1', 'x-mock-words': '8' },
    ],
  ])('%s still parses to the same answer', async (_name, headers) => {
    const plain = await collectChat({ 'x-mock-words': headers['x-mock-words'] ?? '20' });
    expect(await collectChat(headers)).toEqual(plain);
    const anthropicText = await anthropic.messages.stream(MESSAGES, { headers }).finalText();
    const plainText = await anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-words': headers['x-mock-words'] ?? '20' } })
      .finalText();
    expect(anthropicText).toBe(plainText);
  });

  it('really changes the bytes on the wire', async () => {
    const crlf = await (
      await rawPost('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-crlf': '1' })
    ).text();
    expect(crlf).toContain('event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n');
    const keepalive = await (
      await rawPost('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-keepalive': '1' })
    ).text();
    expect(keepalive.endsWith('data: [DONE]\n\n: keep-alive\n\n')).toBe(true);
  });

  it('writes split pieces as separate network reads', async () => {
    const response = await rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-split': '7' },
    );
    const reader = response.body?.getReader();
    let reads = 0;
    let bytes = 0;
    for (let r = await reader?.read(); r && !r.done; r = await reader?.read()) {
      reads++;
      bytes += r.value.length;
    }
    expect(bytes).toBeGreaterThan(1000);
    expect(reads).toBeGreaterThan(bytes / 7 / 4);
  });
});

describe('failure knobs', () => {
  it('truncate ends cleanly after N content chunks with no terminal event', async () => {
    const raw = await (
      await rawPost('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-truncate': '5' })
    ).text();
    expect(raw).not.toContain('[DONE]');
    expect(raw.match(/"content":"[^"]/g)).toHaveLength(5);
    const seen = await collectChat({ 'x-mock-truncate': '5' });
    expect(seen.finish).toBeNull();
    expect(seen.usage).toBeUndefined();
    await expect(
      openai.chat.completions.stream(CHAT, { headers: { 'x-mock-truncate': '5' } }).finalChatCompletion(),
    ).rejects.toThrow(/finish_reason/);
    const anthropicRaw = await (
      await rawPost('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-truncate': '2' })
    ).text();
    expect(anthropicRaw.match(/"text_delta"/g)).toHaveLength(2);
    expect(anthropicRaw).not.toContain('message_delta');
    expect(anthropicRaw).not.toContain('message_stop');
    const truncated = anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-truncate': '2' } })
      .finalMessage();
    await expect(truncated).rejects.toThrow(/stream ended without producing a Message/);
    expect(mock.stats.completedStreams).toBe(5);
    expect(mock.stats.abortedStreams).toBe(0);
  });

  it('done-in-content puts the terminal marker inside JSON and ends before the real one', async () => {
    const raw = await (
      await rawPost('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-done-in-content': '1' })
    ).text();
    expect(raw).toContain('data: [DONE]\\n\\n');
    expect(raw).not.toMatch(/^data: \[DONE\]$/m);
    const anthropicRaw = await (
      await rawPost('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-done-in-content': '1' })
    ).text();
    expect(anthropicRaw).toContain('event: message_stop\\n');
    expect(anthropicRaw).not.toMatch(/^event: message_stop$/m);
  });

  it('error-event surfaces as an APIError mid-stream in both SDKs', async () => {
    let text = '';
    const consume = async () => {
      const stream = await openai.chat.completions.create(
        { ...CHAT, stream: true },
        { headers: { 'x-mock-error-event': '1' } },
      );
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    };
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(text.split(' ')).toHaveLength(10);
    const failing = anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-error-event': '1' } })
      .finalMessage();
    await expect(failing).rejects.toMatchObject({ type: 'overloaded_error' });
    const raw = await (
      await rawPost(
        '/v1/responses',
        { model: 'gpt-4o-mini', input: 'Hi', stream: true },
        { 'x-mock-error-event': '1' },
      )
    ).text();
    expect(raw).toContain('event: error\n');
    expect(raw).toContain('event: response.failed\n');
    expect(raw).not.toContain('response.completed');
  });

  it('status knob answers protocol-shaped errors, or a normal body for 2xx', async () => {
    const limited = openai.chat.completions.create(CHAT, { headers: { 'x-mock-status': '429' } });
    await expect(limited).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(limited).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    const overloaded = anthropic.messages.create(MESSAGES, { headers: { 'x-mock-status': '529' } });
    await expect(overloaded).rejects.toBeInstanceOf(Anthropic.APIError);
    await expect(overloaded).rejects.toMatchObject({
      status: 529,
      error: { error: { type: 'overloaded_error' } },
    });
    const created = await rawPost('/v1/chat/completions', CHAT, { 'x-mock-status': '201' });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { object: string }).object).toBe('chat.completion');
  });

  it('error-as-sse sends one error event with status 200', async () => {
    const response = await rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-error-as-sse': '1' },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await response.text()).toMatch(/^data: \{"error":\{.*\}\}\n\n$/);
    const responses = await (
      await rawPost('/v1/responses', { model: 'gpt-4o-mini', input: 'Hi' }, { 'x-mock-error-as-sse': '1' })
    ).text();
    expect(responses).toMatch(/^event: error\ndata: \{"type":"error".*\n\n$/);
    const anthropicStream = anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-error-as-sse': '1' } })
      .finalMessage();
    await expect(anthropicStream).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it('reset destroys the socket mid-stream: the SDK sees a broken stream, not a clean end', async () => {
    const consume = async () => {
      const stream = await openai.chat.completions.create(
        { ...CHAT, stream: true },
        { headers: { 'x-mock-reset': '3' } },
      );
      for await (const _ of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow();
    // JSON: the headers arrived, then the socket died 40 bytes into the body.
    await expect(anthropic.messages.create(MESSAGES, { headers: { 'x-mock-reset': '40' } })).rejects.toThrow(
      /terminated/,
    );
    expect(mock.stats.completedStreams).toBe(0);
    expect(mock.stats.abortedStreams).toBe(0);
  });

  it('hang sends headers and then nothing; the client leaving counts as an aborted stream', async () => {
    const controller = new AbortController();
    const response = await rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-hang': '1' },
      controller.signal,
    );
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    const read = reader?.read();
    const winner = await Promise.race([
      read,
      new Promise((resolve) => setTimeout(() => resolve('idle'), 150)),
    ]);
    expect(winner).toBe('idle');
    controller.abort();
    await read?.catch(() => undefined);
    await expect.poll(() => mock.stats.abortedStreams).toBe(1);
  });

  it('endless keeps streaming until the client goes away', async () => {
    const controller = new AbortController();
    const response = await rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-endless': '1' },
      controller.signal,
    );
    const reader = response.body?.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (text.split('\n\n').length < 60) {
      const r = await reader?.read();
      if (!r || r.done) throw new Error('endless stream ended');
      text += decoder.decode(r.value, { stream: true });
    }
    controller.abort();
    await expect.poll(() => mock.stats.abortedStreams).toBe(1);
    expect(mock.stats.chunksWritten).toBeGreaterThanOrEqual(59);
    expect(mock.stats.completedStreams).toBe(0);
  });

  it('paces chunks by x-mock-delay-ms and delays the first byte', async () => {
    const started = Date.now();
    await collectChat({ 'x-mock-delay-ms': '15', 'x-mock-words': '6', 'x-mock-first-byte-delay-ms': '40' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(6 * 15 + 40);
  });

  it('answers a bad knob value with 400 naming the header', async () => {
    const response = await rawPost('/v1/chat/completions', CHAT, { 'x-mock-words': 'lots' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'x-mock-words',
    );
  });
});

describe('counters and the standalone CLI', () => {
  it('counts requests per path, numbers responses, and resets', async () => {
    const first = await rawPost('/v1/chat/completions', CHAT);
    await first.text();
    const second = await rawPost('/v1/messages', MESSAGES);
    await second.text();
    expect(first.headers.get('x-mock-request-count')).toBe('1');
    expect(second.headers.get('x-mock-request-count')).toBe('2');
    expect(mock.stats.byPath).toEqual({ '/v1/chat/completions': 1, '/v1/messages': 1 });
    mock.resetStats();
    expect(mock.stats.requests).toBe(0);
    expect(mock.stats.lastRequest).toBeUndefined();
  });

  it('x-mock-unique makes every call answer differently', async () => {
    const a = await openai.chat.completions.create(CHAT, { headers: { 'x-mock-unique': '1' } });
    const b = await openai.chat.completions.create(CHAT, { headers: { 'x-mock-unique': '1' } });
    expect(a.choices[0]?.message.content).not.toBe(b.choices[0]?.message.content);
  });

  it('cli.ts prints its URL as one JSON line and serves', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/mock-upstream/cli.ts', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { url } = JSON.parse(line) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { object: string };
      expect(models.object).toBe('list');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
