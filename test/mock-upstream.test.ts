import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { CHAT, MESSAGES, useSdkRig, WEATHER_TOOL } from './mock-upstream/sdk-rig.js';

/**
 * The mock is only useful if the official SDKs accept everything it sends, so these tests
 * drive it with `openai` and `@anthropic-ai/sdk` directly (no gateway in between).
 * Knob behaviour (framing, failures, counters, CLI) is tested in mock-upstream/knobs.test.ts.
 */

const rig = useSdkRig();

describe('OpenAI chat completions', () => {
  it('answers JSON deterministically, differently for a changed field, and records credentials', async () => {
    const first = await rig.openai.chat.completions.create(CHAT);
    const again = await rig.openai.chat.completions.create(CHAT);
    const changed = await rig.openai.chat.completions.create({ ...CHAT, temperature: 0.3 });
    expect(first.object).toBe('chat.completion');
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(first.choices[0]?.message.content?.split(' ').length).toBe(20);
    expect(first.choices[0]?.finish_reason).toBe('stop');
    expect(again).toEqual(first);
    expect(changed.choices[0]?.message.content).not.toBe(first.choices[0]?.message.content);
    expect(first.usage?.total_tokens).toBe(
      (first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0),
    );
    expect(rig.mock.stats.lastRequest?.headers.authorization).toBe('Bearer sk-test-openai');
    expect(rig.mock.stats.lastRequest?.path).toBe('/v1/chat/completions');
  });

  it('streams role, content, finish and usage chunks that add up to the JSON answer', async () => {
    const json = await rig.openai.chat.completions.create(CHAT);
    const streamed = await rig.collectChat();
    expect(streamed.text).toBe(json.choices[0]?.message.content);
    expect(streamed.finish).toBe('stop');
    expect(streamed.usage).toEqual(json.usage);
    expect(rig.mock.stats.completedStreams).toBe(1);
    // role + 20 content + finish + usage + [DONE]
    expect(rig.mock.stats.chunksWritten).toBe(24);
  });

  it('carries usage: null on every chunk only when include_usage is asked', async () => {
    const withUsage = await (
      await rig.rawPost('/v1/chat/completions', {
        ...CHAT,
        stream: true,
        stream_options: { include_usage: true },
      })
    ).text();
    const without = await (await rig.rawPost('/v1/chat/completions', { ...CHAT, stream: true })).text();
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
    const runner = rig.openai.chat.completions.stream(
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
    expect(rig.mock.stats.chunksWritten).toBeGreaterThan(6);
  });

  it('calls a tool without the knob when the prompt asks for one', async () => {
    const messages = [{ role: 'user' as const, content: 'Please call a tool for Paris.' }];
    const result = await rig.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: [WEATHER_TOOL],
    });
    expect(result.choices[0]?.message.tool_calls).toHaveLength(1);
    expect(result.choices[0]?.message.content).toBeNull();
  });

  it('supports n > 1 with logprobs, in JSON and in the stream', async () => {
    const params = { ...CHAT, n: 2, logprobs: true, top_logprobs: 2 };
    const json = await rig.openai.chat.completions.create(params, { headers: { 'x-mock-words': '6' } });
    expect(json.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(json.choices[0]?.message.content).not.toBe(json.choices[1]?.message.content);
    expect(json.choices[0]?.logprobs?.content).toHaveLength(6);
    expect(json.choices[0]?.logprobs?.content?.[0]?.top_logprobs).toHaveLength(2);
    const final = await rig.openai.chat.completions
      .stream(params, { headers: { 'x-mock-words': '6' } })
      .finalChatCompletion();
    expect(final.choices.map((c) => c.message.content)).toEqual(json.choices.map((c) => c.message.content));
    expect(final.choices[1]?.logprobs?.content?.map((l) => l.token).join('')).toBe(
      json.choices[1]?.message.content,
    );
  });

  it('sends reasoning_content deltas and refusals on request', async () => {
    const stream = await rig.openai.chat.completions.create(
      { ...CHAT, stream: true },
      { headers: { 'x-mock-reasoning': '1', 'x-mock-words': '4' } },
    );
    let reasoning = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
    }
    expect(reasoning.length).toBeGreaterThan(0);
    const refused = await rig.openai.chat.completions
      .stream(CHAT, { headers: { 'x-mock-refusal': '1' } })
      .finalChatCompletion();
    expect(refused.choices[0]?.message.refusal).toMatch(/^I'm sorry/);
    expect(refused.choices[0]?.message.content).toBeNull();
  });

  it('includes multi-byte UTF-8 words in answers', async () => {
    const json = await rig.openai.chat.completions.create(CHAT, { headers: { 'x-mock-words': '80' } });
    expect(json.choices[0]?.message.content).toMatch(/[^\x00-\x7f]/);
  });
});

describe('OpenAI responses, completions, embeddings, models', () => {
  it('streams the Responses event sequence with sequence numbers', async () => {
    const stream = await rig.openai.responses.create(
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
    const json = await rig.openai.responses.create(
      { model: 'gpt-4o-mini', input: 'Hi' },
      { headers: { 'x-mock-words': '3' } },
    );
    expect(json.output_text).toBe(text);
    expect(json.status).toBe('completed');
  });

  it('assembles finalResponse with list input, reasoning and function calls', async () => {
    const input = [{ role: 'user' as const, content: 'What is the weather?' }];
    const final = await rig.openai.responses
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
    const called = await rig.openai.responses
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
    const json = await rig.openai.completions.create(params);
    expect(json.object).toBe('text_completion');
    const stream = await rig.openai.completions.create({
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
    const viaBase64 = await rig.openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['café', 'naïve', 'café'],
    });
    expect(rig.mock.stats.lastRequest?.body).toMatchObject({ encoding_format: 'base64' });
    const viaFloat = await rig.openai.embeddings.create({
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
    const models = await rig.openai.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    const claude = await rig.anthropic.models.list();
    expect(claude.data[0]?.type).toBe('model');
    const missing = await rig.rawPost('/v1/nothing-here', {});
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('Anthropic messages', () => {
  it('answers JSON with a text block, stop_reason and usage, and records x-api-key', async () => {
    const message = await rig.anthropic.messages.create(MESSAGES);
    expect(message.id).toMatch(/^msg_01/);
    expect(message.content[0]?.type).toBe('text');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(20);
    expect(rig.mock.stats.lastRequest?.headers['x-api-key']).toBe('sk-ant-test');
    expect(rig.mock.stats.lastRequest?.headers['anthropic-version']).toBeDefined();
  });

  it('streams the event sequence and text equal to the JSON answer', async () => {
    const json = await rig.anthropic.messages.create(MESSAGES, { headers: { 'x-mock-words': '3' } });
    const stream = await rig.anthropic.messages.create(
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
    const raw = await (await rig.rawPost('/v1/messages', { ...MESSAGES, stream: true })).text();
    expect(raw).toContain('event: ping\ndata: {"type":"ping"}\n\n');
  });

  it('assembles thinking (with signature), text and tool_use in finalMessage', async () => {
    const tools = [
      {
        name: 'get_weather',
        input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
      },
    ];
    const final = await rig.anthropic.messages
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
    const json = await rig.anthropic.messages.create(
      { ...MESSAGES, tools, thinking: { type: 'enabled', budget_tokens: 1024 } },
      { headers: { 'x-mock-tool-call': '1' } },
    );
    expect(json.content).toEqual(final.content);
  });

  it('rejects a request without max_tokens the way the API does', async () => {
    const response = await rig.rawPost('/v1/messages', {
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
    const response = await rig.openai.responses
      .stream({ model: 'gpt-4o-mini', input: 'Hi' }, { headers })
      .finalResponse();
    const item = response.output[0];
    expect(item?.type === 'message' && item.content[0]?.type).toBe('refusal');
    const message = await rig.anthropic.messages.stream(MESSAGES, { headers }).finalMessage();
    expect(message.stop_reason).toBe('refusal');
  });

  it("stops at the token limit with each protocol's reason", async () => {
    const chat = await rig.openai.chat.completions
      .stream({ ...CHAT, max_completion_tokens: 4 })
      .finalChatCompletion();
    expect(chat.choices[0]?.finish_reason).toBe('length');
    expect(chat.choices[0]?.message.content?.split(' ')).toHaveLength(4);
    const message = await rig.anthropic.messages.stream({ ...MESSAGES, max_tokens: 4 }).finalMessage();
    expect(message.stop_reason).toBe('max_tokens');
    const stream = await rig.openai.responses.create({
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
