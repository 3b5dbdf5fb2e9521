import Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anthropicMessagesProtocol as protocol } from '../../src/protocols/anthropic-messages.js';
import { anthropicErrorBody } from '../../src/protocols/anthropic-shared.js';
import { chunkWords } from '../../src/protocols/chunk-text.js';
import type { JsonObject, JsonValue } from '../../src/protocols/types.js';
import {
  ANTHROPIC_MESSAGE_START,
  ANTHROPIC_TEXT_PAIRS,
  ANTHROPIC_TEXT_STREAM,
  ANTHROPIC_THINKING_STREAM,
  ANTHROPIC_TOOL_STREAM,
  encodeSse,
  parseData,
  parseRecorded,
  plain,
  recording,
  requestInfo,
  serveSse,
  toSseEvents,
} from './responses-anthropic-helpers.js';

const REQUEST = { model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'Hi' }] };

function events(text: string) {
  return parseRecorded(text);
}

describe('anthropic.messages validate', () => {
  it('accepts a minimal request and reads model and stream', () => {
    const check = protocol.validate({ ...REQUEST, stream: true });
    expect(check).toEqual({
      ok: true,
      request: {
        body: { ...REQUEST, stream: true },
        model: REQUEST.model,
        stream: true,
        wantsStreamUsage: false,
      },
    });
    const plainCheck = protocol.validate(REQUEST);
    expect(plainCheck.ok && plainCheck.request.stream).toBe(false);
  });

  it.each([
    ['an array body', [REQUEST], undefined],
    ['a null body', null, undefined],
    ['a missing model', { ...REQUEST, model: undefined }, 'model'],
    ['an empty model', { ...REQUEST, model: '' }, 'model'],
    ['a numeric model', { ...REQUEST, model: 4 }, 'model'],
    ['missing messages', { ...REQUEST, messages: undefined }, 'messages'],
    ['messages as an object', { ...REQUEST, messages: { role: 'user' } }, 'messages'],
    ['missing max_tokens', { ...REQUEST, max_tokens: undefined }, 'max_tokens'],
    ['max_tokens 0', { ...REQUEST, max_tokens: 0 }, 'max_tokens'],
    ['fractional max_tokens', { ...REQUEST, max_tokens: 1.5 }, 'max_tokens'],
    ['max_tokens as a string', { ...REQUEST, max_tokens: '100' }, 'max_tokens'],
    ['a string stream flag', { ...REQUEST, stream: 'true' }, 'stream'],
  ])('rejects %s with 400', (_label, body, param) => {
    const check = protocol.validate(JSON.parse(JSON.stringify(body ?? null)));
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.status).toBe(400);
    expect(check.param).toBe(param);
    expect(check.message.length).toBeGreaterThan(10);
  });
});

describe('anthropic.messages keyMaterial and cacheability', () => {
  const full: JsonObject = {
    ...REQUEST,
    system: 'Be brief.',
    temperature: 0.2,
    top_p: 0.9,
    top_k: 5,
    stop_sequences: ['END'],
    tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
    tool_choice: { type: 'auto' },
    thinking: { type: 'enabled', budget_tokens: 2048 },
  };

  it('keeps every field except stream and metadata', () => {
    const material = protocol.keyMaterial(
      requestInfo({ ...full, stream: true, metadata: { user_id: 'u1' } }),
    );
    expect(material).toEqual(full);
  });

  it('is unchanged by the excluded fields and changed by the others', () => {
    const base = protocol.keyMaterial(requestInfo(full));
    expect(protocol.keyMaterial(requestInfo({ ...full, stream: false, metadata: { user_id: 'x' } }))).toEqual(
      base,
    );
    expect(protocol.keyMaterial(requestInfo({ ...full, temperature: 1 }))).not.toEqual(base);
  });

  it('caches every valid request', () => {
    expect(protocol.cacheability(requestInfo(full))).toEqual({ cacheable: true });
  });
});

describe('anthropic.messages inspectStream', () => {
  it('accepts a complete stream and reports model and merged usage', () => {
    expect(protocol.inspectStream(events(ANTHROPIC_TEXT_STREAM))).toEqual({
      complete: true,
      model: 'claude-sonnet-4-6',
      usage: { inputTokens: 25, outputTokens: 12 },
    });
  });

  it('counts prompt-cache tokens as input', () => {
    const pairs = ANTHROPIC_TEXT_PAIRS.map(([name, data]) =>
      name === 'message_delta'
        ? ([name, { ...data, usage: { cache_read_input_tokens: 1000, output_tokens: 12 } }] as const)
        : ([name, data] as const),
    );
    const verdict = protocol.inspectStream(events(recording(pairs)));
    expect(verdict).toMatchObject({ complete: true, usage: { inputTokens: 1025, outputTokens: 12 } });
  });

  it('rejects a stream without message_stop', () => {
    const verdict = protocol.inspectStream(events(ANTHROPIC_TEXT_STREAM).slice(0, -1));
    expect(verdict).toEqual({ complete: false, reason: 'no message_stop event' });
  });

  it('rejects a stream cut before message_delta', () => {
    const verdict = protocol.inspectStream(events(ANTHROPIC_TEXT_STREAM).slice(0, 6));
    expect(verdict).toEqual({ complete: false, reason: 'no message_delta with a stop_reason' });
  });

  it('rejects a stream without message_start', () => {
    const verdict = protocol.inspectStream(events(ANTHROPIC_TEXT_STREAM).slice(1));
    expect(verdict).toMatchObject({ complete: false, reason: 'message_stop without message_start' });
  });

  it('rejects message_stop while a content block is open', () => {
    const all = events(ANTHROPIC_TEXT_STREAM);
    const verdict = protocol.inspectStream(all.filter((e) => e.event !== 'content_block_stop'));
    expect(verdict).toMatchObject({ complete: false, reason: expect.stringContaining('still open') });
  });

  it('rejects an error event mid-stream, even when message_stop follows', () => {
    const error = recording([['error', anthropicErrorBody('Overloaded', 'overloaded_error')]]);
    const parts = ANTHROPIC_TEXT_STREAM.split('event: content_block_stop');
    const stream = `${parts[0]}${error}event: content_block_stop${parts[1]}`;
    const verdict = protocol.inspectStream(events(stream));
    expect(verdict).toMatchObject({ complete: false, reason: expect.stringContaining('error event') });
  });

  it('rejects an error event after message_stop', () => {
    const stream =
      ANTHROPIC_TEXT_STREAM + recording([['error', anthropicErrorBody('Internal', 'api_error')]]);
    expect(protocol.inspectStream(events(stream)).complete).toBe(false);
  });

  it('rejects an event whose data is malformed JSON', () => {
    const stream = ANTHROPIC_TEXT_STREAM.replace('"text":"! How can I"}}', '"text":"! How can I"}');
    const verdict = protocol.inspectStream(events(stream));
    expect(verdict).toMatchObject({ complete: false, reason: expect.stringContaining('not a JSON object') });
  });

  it('rejects a message_stop that arrives without a stop_reason', () => {
    const stream = ANTHROPIC_TEXT_STREAM.replace('"stop_reason":"end_turn"', '"stop_reason":null');
    const verdict = protocol.inspectStream(events(stream));
    expect(verdict).toMatchObject({ complete: false, reason: expect.stringContaining('stop_reason') });
  });
});

describe('anthropic.messages inspectJson', () => {
  const message = {
    ...ANTHROPIC_MESSAGE_START.message,
    content: [{ type: 'text', text: 'Hi' }],
    stop_reason: 'end_turn',
    usage: { input_tokens: 10, output_tokens: 3 },
  };

  it('accepts a Message with a stop_reason', () => {
    expect(protocol.inspectJson(plain(message))).toEqual({
      ok: true,
      model: message.model,
      usage: { inputTokens: 10, outputTokens: 3 },
    });
  });

  it.each([
    ['an error body', anthropicErrorBody('Overloaded', 'overloaded_error')],
    ['a non-message type', { ...message, type: 'completion' }],
    ['a message without stop_reason', { ...message, stop_reason: null }],
    ['a message without content', { ...message, content: undefined }],
    ['an array', [message]],
  ])('rejects %s', (_label, body) => {
    expect(protocol.inspectJson(plain(body)).ok).toBe(false);
  });
});

describe('anthropic.messages assemble', () => {
  it('assembles text and merges usage from message_start and message_delta', () => {
    expect(protocol.assemble(events(ANTHROPIC_TEXT_STREAM))).toEqual({
      ...ANTHROPIC_MESSAGE_START.message,
      content: [{ type: 'text', text: 'Hello! How can I help you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { ...ANTHROPIC_MESSAGE_START.message.usage, output_tokens: 12 },
    });
  });

  it('parses tool input from several input_json_delta fragments; an empty buffer is {}', () => {
    const message = protocol.assemble(events(ANTHROPIC_TOOL_STREAM));
    expect(message.content).toEqual([
      { type: 'text', text: "I'll check the weather." },
      {
        type: 'tool_use',
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        input: { location: 'San Francisco, CA', unit: 'fahrenheit' },
      },
      { type: 'tool_use', id: 'toolu_02', name: 'get_time', input: {} },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 25, output_tokens: 89 });
  });

  it('throws a typed error when there is no message_start', () => {
    const headless = events(ANTHROPIC_TEXT_STREAM).slice(1);
    expect(() => protocol.assemble(headless)).toThrow(
      expect.objectContaining({ name: 'ProtocolError', code: 'PROTOCOL_MALFORMED_STREAM' }),
    );
  });

  it('assembles thinking with its signature', () => {
    const message = protocol.assemble(events(ANTHROPIC_THINKING_STREAM));
    expect(message.content).toEqual([
      {
        type: 'thinking',
        thinking: 'GCD of 1071 and 462: 1071 = 2*462 + 147',
        signature: 'EqQBCgIYAhIM1gbcDa9G',
      },
      { type: 'text', text: 'The GCD is 21.' },
    ]);
  });
});

/** Answers covering every block kind the synthesizer treats differently, plus unknown extra fields. */
const ANSWERS: Record<string, JsonObject> = {
  text: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [{ type: 'text', text: 'Hello there,\nhow  are you?' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 7, cache_read_input_tokens: 3, service_tier: 'standard' },
  },
  tools: {
    id: 'msg_2',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [
      { type: 'text', text: 'Checking.' },
      {
        type: 'tool_use',
        id: 'toolu_1',
        name: 'lookup',
        input: { query: 'weather in Zürich 🌧 and a very long string to need several fragments', n: [1, 2] },
      },
      { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 40, output_tokens: 55 },
  },
  thinking: {
    id: 'msg_3',
    type: 'message',
    role: 'assistant',
    model: 'claude-opus-4-1',
    content: [
      { type: 'thinking', thinking: 'Let me think step by step.', signature: 'sig-abc' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
      {
        type: 'text',
        text: 'The grass is green.',
        citations: [
          {
            type: 'char_location',
            cited_text: 'The grass is green.',
            document_index: 0,
            start_char_index: 0,
          },
        ],
      },
    ],
    stop_reason: 'stop_sequence',
    stop_sequence: '###',
    stop_details: null,
    container: null,
    usage: { input_tokens: 100, output_tokens: 30, cache_creation_input_tokens: 50 },
    unknown_future_field: { kept: true },
  },
};

function streamOf(answer: JsonObject) {
  return protocol.synthesize(answer, requestInfo(REQUEST));
}

describe('anthropic.messages synthesize', () => {
  it('emits the API event sequence with event names equal to data.type', () => {
    const stream = streamOf(ANSWERS.text!);
    const types = stream.map((e) => parseData(e).type);
    expect(stream.map((e) => e.event)).toEqual(types);
    expect(types).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      ...chunkWords('Hello there,\nhow  are you?').map(() => 'content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = parseData(stream[0]!).message as JsonObject;
    expect(start).toMatchObject({
      content: [],
      stop_reason: null,
      usage: { input_tokens: 12, output_tokens: 1 },
    });
    const delta = parseData(stream.at(-2)!);
    expect(delta).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 7 },
    });
  });

  it('splits text into word chunks and tool input into several JSON fragments', () => {
    const deltas = streamOf(ANSWERS.tools!)
      .map(parseData)
      .filter((d) => d.type === 'content_block_delta')
      .map((d) => d.delta as JsonObject);
    const fragments = deltas.filter((d) => d.type === 'input_json_delta').map((d) => d.partial_json);
    expect(fragments.length).toBeGreaterThan(2);
    expect(deltas.filter((d) => d.type === 'text_delta').map((d) => d.text)).toEqual(['Checking.']);
  });

  it.each(Object.keys(ANSWERS))('round-trips the %s answer through assemble', (name) => {
    const answer = ANSWERS[name]!;
    expect(protocol.assemble(toSseEvents(streamOf(answer)))).toEqual(answer);
    expect(protocol.inspectStream(toSseEvents(streamOf(answer))).complete).toBe(true);
  });
});

const jsonObject = fc.dictionary(
  fc.string().filter((key) => key !== '__proto__'),
  fc.json().map((text) => JSON.parse(text) as JsonValue),
  { maxKeys: 4 },
);
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const block = fc.oneof(
  anyText.map((text) => ({ type: 'text', text })),
  fc.record({ type: fc.constant('tool_use'), id: fc.string(), name: fc.string(), input: jsonObject }),
  fc.record({ type: fc.constant('thinking'), thinking: anyText, signature: fc.string() }),
);

describe('anthropic.messages synthesize/assemble property', () => {
  it('assemble(synthesize(answer)) equals the answer for arbitrary content', () => {
    fc.assert(
      fc.property(fc.array(block, { maxLength: 4 }), fc.nat(), fc.nat(), (content, input, output) => {
        const answer: JsonObject = {
          ...ANSWERS.text!,
          content,
          usage: { input_tokens: input, output_tokens: output },
        };
        expect(protocol.assemble(toSseEvents(streamOf(answer)))).toEqual(answer);
      }),
      { numRuns: 150 },
    );
  });
});

/** The SDK's final message as plain JSON, without the `parsed_output` helper it adds. */
function withoutSdkHelpers(message: unknown): JsonValue {
  const { parsed_output: _parsed, ...rest } = plain(message) as JsonObject;
  return rest;
}

async function sdkFinalMessage(body: string): Promise<JsonValue> {
  const server = await serveSse(body);
  try {
    const client = new Anthropic({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
    const message = await client.messages
      .stream({ ...REQUEST, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage();
    expect(server.requests[0]).toMatchObject({ stream: true, model: REQUEST.model });
    return withoutSdkHelpers(message);
  } finally {
    await server.close();
  }
}

describe('anthropic.messages against the official SDK', () => {
  it.each(Object.keys(ANSWERS))(
    'the SDK parses the synthesized %s stream back to the answer',
    async (name) => {
      const answer = ANSWERS[name]!;
      expect(await sdkFinalMessage(encodeSse(streamOf(answer)))).toEqual(answer);
    },
  );

  it.each([
    ['text', ANTHROPIC_TEXT_STREAM],
    ['tool use', ANTHROPIC_TOOL_STREAM],
    ['thinking', ANTHROPIC_THINKING_STREAM],
  ])('the SDK and assemble agree on the recorded %s stream', async (_label, stream) => {
    expect(await sdkFinalMessage(stream)).toEqual(protocol.assemble(events(stream)));
  });
});
