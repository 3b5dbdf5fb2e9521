import fc from 'fast-check';
import OpenAI from 'openai';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { chunkWords } from '../../src/protocols/chunk-text.js';
import { ProtocolError } from '../../src/protocols/errors.js';
import { KEY_EXCLUSIONS } from '../../src/protocols/key-exclusions.js';
import { openaiResponsesProtocol as protocol } from '../../src/protocols/openai-responses.js';
import { openaiErrorBody } from '../../src/protocols/openai-shared.js';
import type { JsonObject, JsonValue } from '../../src/protocols/types.js';
import {
  encodeSse,
  numberedRecording,
  parseData,
  parseRecorded,
  plain,
  RESPONSE_CALL_ITEM,
  RESPONSE_IN_PROGRESS,
  RESPONSE_REASONING_ITEM,
  RESPONSE_TEXT,
  RESPONSE_TEXT_AT,
  RESPONSE_TEXT_COMPLETED,
  RESPONSE_TEXT_ITEM,
  RESPONSE_TEXT_PAIRS,
  RESPONSE_TEXT_STREAM,
  RESPONSE_TOOL_COMPLETED,
  RESPONSE_TOOL_STREAM,
  requestInfo,
  serveSse,
  toSseEvents,
} from './responses-anthropic-helpers.js';

const REQUEST = { model: 'gpt-4.1', input: 'Say hi' };

describe('openai.responses validate', () => {
  it('accepts string and array input', () => {
    expect(protocol.validate({ ...REQUEST, stream: true })).toEqual({
      ok: true,
      request: {
        body: { ...REQUEST, stream: true },
        model: 'gpt-4.1',
        stream: true,
        wantsStreamUsage: false,
      },
    });
    const check = protocol.validate({ ...REQUEST, input: [{ role: 'user', content: 'hi' }] });
    expect(check.ok && check.request.stream).toBe(false);
  });

  it.each([
    ['a missing model', { input: 'x' }, 'model'],
    ['an empty model', { ...REQUEST, model: '' }, 'model'],
    ['missing input', { model: 'gpt-4.1' }, 'input'],
    ['numeric input', { ...REQUEST, input: 3 }, 'input'],
    ['object input', { ...REQUEST, input: { role: 'user' } }, 'input'],
    ['a string stream flag', { ...REQUEST, stream: 'yes' }, 'stream'],
  ])('rejects %s with 400', (_label, body, param) => {
    const check = protocol.validate(body);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check).toMatchObject({ status: 400, param });
    expect(check.message).toContain(param);
  });

  it('rejects a body that is not an object', () => {
    expect(protocol.validate([REQUEST])).toMatchObject({ ok: false, status: 400 });
  });
});

describe('openai.responses keyMaterial and cacheability', () => {
  const full: JsonObject = {
    ...REQUEST,
    instructions: 'Be brief.',
    temperature: 0.3,
    top_p: 0.9,
    max_output_tokens: 500,
    tools: [{ type: 'function', name: 'f', parameters: {} }],
    tool_choice: 'auto',
    reasoning: { effort: 'low' },
    text: { format: { type: 'text' } },
    previous_response_id: 'resp_1',
    include: ['reasoning.encrypted_content'],
    truncation: 'auto',
    // A resp_ id recorded with store:false cannot be chained: store is key material.
    store: false,
  };
  const excluded: JsonObject = {
    stream: true,
    stream_options: { include_obfuscation: false },
    user: 'u1',
    safety_identifier: 's1',
    metadata: { run: '7' },
    prompt_cache_key: 'k',
    prompt_cache_retention: '24h',
  };

  it('drops exactly the listed exclusions and keeps every other field', () => {
    expect(Object.keys(excluded).sort()).toEqual(Object.keys(KEY_EXCLUSIONS['openai.responses']).sort());
    expect(protocol.keyMaterial(requestInfo({ ...full, ...excluded }))).toEqual(full);
  });

  it('changes with a field that changes the answer', () => {
    expect(protocol.keyMaterial(requestInfo({ ...full, temperature: 1 }))).not.toEqual(
      protocol.keyMaterial(requestInfo(full)),
    );
  });

  it('does not cache background responses', () => {
    expect(protocol.cacheability(requestInfo({ ...REQUEST, background: true }))).toEqual({
      cacheable: false,
      reason: 'background responses are polled, not answered',
    });
    expect(protocol.cacheability(requestInfo({ ...REQUEST, background: false }))).toEqual({
      cacheable: true,
    });
  });
});

describe('openai.responses inspectStream', () => {
  it('accepts a complete stream and reports model and usage', () => {
    expect(protocol.inspectStream(parseRecorded(RESPONSE_TEXT_STREAM))).toEqual({
      complete: true,
      model: 'gpt-4.1-2025-04-14',
      usage: { inputTokens: 37, outputTokens: 11 },
    });
    expect(protocol.inspectStream(parseRecorded(RESPONSE_TOOL_STREAM))).toMatchObject({ complete: true });
  });

  it('rejects a stream without response.completed', () => {
    const verdict = protocol.inspectStream(parseRecorded(RESPONSE_TEXT_STREAM).slice(0, -1));
    expect(verdict).toEqual({ complete: false, reason: 'no response.completed event' });
  });

  it('rejects an error event mid-stream, even when response.completed follows', () => {
    const error = numberedRecording([
      ['error', { code: 'server_error', message: 'The server had an error', param: null }],
    ]);
    const parts = RESPONSE_TEXT_STREAM.split('event: response.output_text.done');
    const verdict = protocol.inspectStream(
      parseRecorded(`${parts[0]}${error}event: response.output_text.done${parts[1]}`),
    );
    expect(verdict).toMatchObject({
      complete: false,
      reason: expect.stringContaining('The server had an error'),
    });
  });

  it.each([
    [
      'response.failed',
      { ...RESPONSE_IN_PROGRESS, status: 'failed', error: { code: 'server_error', message: 'boom' } },
      'boom',
    ],
    [
      'response.incomplete',
      { ...RESPONSE_IN_PROGRESS, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
      'max_output_tokens',
    ],
  ])('rejects a stream ending in %s', (type, response, detail) => {
    const stream = numberedRecording([...RESPONSE_TEXT_PAIRS.slice(0, -1), [type, { response }]]);
    const verdict = protocol.inspectStream(parseRecorded(stream));
    expect(verdict).toMatchObject({ complete: false, reason: expect.stringContaining(type) });
    expect(verdict).toMatchObject({ reason: expect.stringContaining(detail) });
  });

  it('rejects an event whose data is malformed JSON', () => {
    const stream = RESPONSE_TEXT_STREAM.replace('"delta":"Hi","logprobs":[]}', '"delta":"Hi","logprobs":[]');
    const verdict = protocol.inspectStream(parseRecorded(stream));
    expect(verdict).toMatchObject({ complete: false, reason: expect.stringContaining('not a JSON object') });
  });

  it('rejects a response.completed whose response is not completed', () => {
    const stream = numberedRecording([
      ...RESPONSE_TEXT_PAIRS.slice(0, -1),
      ['response.completed', { response: RESPONSE_IN_PROGRESS }],
    ]);
    expect(protocol.inspectStream(parseRecorded(stream)).complete).toBe(false);
  });
});

describe('openai.responses inspectJson', () => {
  it('accepts a completed response', () => {
    expect(protocol.inspectJson(plain(RESPONSE_TEXT_COMPLETED))).toEqual({
      ok: true,
      model: 'gpt-4.1-2025-04-14',
      usage: { inputTokens: 37, outputTokens: 11 },
    });
  });

  it.each([
    ['an error body', openaiErrorBody('Rate limit reached', 'requests', 'rate_limit_exceeded')],
    ['an incomplete response', { ...RESPONSE_TEXT_COMPLETED, status: 'incomplete' }],
    ['a chat completion', { id: 'chatcmpl-1', object: 'chat.completion', choices: [] }],
    ['a string', 'ok'],
  ])('rejects %s', (_label, body) => {
    expect(protocol.inspectJson(plain(body)).ok).toBe(false);
  });
});

describe('openai.responses assemble', () => {
  it('returns the response carried by response.completed', () => {
    expect(protocol.assemble(parseRecorded(RESPONSE_TEXT_STREAM))).toEqual(RESPONSE_TEXT_COMPLETED);
    expect(protocol.assemble(parseRecorded(RESPONSE_TOOL_STREAM))).toEqual(RESPONSE_TOOL_COMPLETED);
  });

  it('throws a typed error when there is no response.completed', () => {
    const truncated = parseRecorded(RESPONSE_TEXT_STREAM).slice(0, -1);
    expect(() => protocol.assemble(truncated)).toThrow(ProtocolError);
    expect(() => protocol.assemble(truncated)).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_MALFORMED_STREAM' }),
    );
  });
});

/** Answers covering every item kind the synthesizer streams differently. */
const ANSWERS: Record<string, JsonObject> = {
  text: plain(RESPONSE_TEXT_COMPLETED) as JsonObject,
  tools: plain(RESPONSE_TOOL_COMPLETED) as JsonObject,
  mixed: plain({
    ...RESPONSE_TEXT_COMPLETED,
    output: [
      {
        ...RESPONSE_REASONING_ITEM,
        summary: [],
        content: [{ type: 'reasoning_text', text: 'Think it through.' }],
      },
      {
        ...RESPONSE_TEXT_ITEM,
        content: [
          { type: 'refusal', refusal: "I can't help with that part." },
          {
            type: 'output_text',
            text: 'But here is a link.',
            annotations: [
              { type: 'url_citation', start_index: 13, end_index: 19, url: 'https://x.test', title: 'X' },
            ],
          },
        ],
      },
      { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'q' } },
      { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_2', name: 'sql', input: 'SELECT 1;' },
      { ...RESPONSE_CALL_ITEM, id: 'fc_2', arguments: '{}' },
    ],
    unknown_future_field: { kept: true },
  }) as JsonObject,
};

function streamOf(answer: JsonObject) {
  return protocol.synthesize(answer, requestInfo(REQUEST));
}

describe('openai.responses synthesize', () => {
  it('emits the API event sequence, numbered, with event names equal to data.type', () => {
    const stream = streamOf(ANSWERS.text!);
    const data = stream.map(parseData);
    expect(stream.map((e) => e.event)).toEqual(data.map((d) => d.type));
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_d, i) => i));
    expect(data.map((d) => d.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...chunkWords(RESPONSE_TEXT).map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(data[0]!.response).toMatchObject({
      status: 'in_progress',
      output: [],
      usage: null,
      completed_at: null,
    });
    const deltas = data.filter((d) => d.type === 'response.output_text.delta');
    expect(deltas.map((d) => d.delta).join('')).toBe(RESPONSE_TEXT);
    expect(deltas[1]).toMatchObject({ ...RESPONSE_TEXT_AT, delta: ' there!', logprobs: [] });
    expect(data.at(-1)).toEqual({
      type: 'response.completed',
      sequence_number: data.length - 1,
      response: ANSWERS.text,
    });
  });

  it.each(Object.keys(ANSWERS))('round-trips the %s answer through assemble', (name) => {
    const answer = ANSWERS[name]!;
    expect(protocol.assemble(toSseEvents(streamOf(answer)))).toEqual(answer);
    expect(protocol.inspectStream(toSseEvents(streamOf(answer))).complete).toBe(true);
  });

  it.each(Object.keys(ANSWERS))('the deltas alone rebuild the %s answer in the SDK accumulator', (name) => {
    const answer = ANSWERS[name]!;
    // Drop everything that carries a finished object, so only the deltas can produce the content.
    const finished = /\.done$|^response\.completed$/;
    const events = streamOf(answer)
      .map((e) => parseData(e) as unknown as ResponseStreamEvent)
      .filter((e) => !finished.test(e.type));
    const snapshot = events.reduce<ReturnType<typeof accumulateResponse> | undefined>(
      (acc, event) => accumulateResponse(event, acc),
      undefined,
    );
    const rebuilt = plain(snapshot?.output) as JsonObject[];
    const expected = (answer.output as JsonObject[]).map((item) => contentOf(item));
    expect(rebuilt.map((item) => contentOf(item))).toEqual(expected);
  });
});

const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const outputItem = fc.oneof(
  fc
    .array(
      fc.oneof(
        anyText.map((text) => ({ type: 'output_text', text, annotations: [] })),
        anyText.map((refusal) => ({ type: 'refusal', refusal })),
      ),
      { maxLength: 3 },
    )
    .map((content) => ({ id: 'msg_p', type: 'message', status: 'completed', role: 'assistant', content })),
  fc.record({
    id: fc.constant('fc_p'),
    type: fc.constant('function_call'),
    status: fc.constant('completed'),
    call_id: fc.string(),
    name: fc.string(),
    arguments: fc.json(),
  }),
  fc.array(anyText, { maxLength: 3 }).map((texts) => ({
    id: 'rs_p',
    type: 'reasoning',
    summary: texts.map((text) => ({ type: 'summary_text', text })),
  })),
);

describe('openai.responses synthesize property', () => {
  it('the deltas of arbitrary output rebuild it in the SDK accumulator', () => {
    fc.assert(
      fc.property(fc.array(outputItem, { maxLength: 4 }), (output) => {
        const answer: JsonObject = { ...ANSWERS.text!, output };
        const stream = streamOf(answer);
        expect(protocol.assemble(toSseEvents(stream))).toEqual(answer);
        const snapshot = stream
          .map((e) => parseData(e) as unknown as ResponseStreamEvent)
          .filter((e) => !/\.done$|^response\.completed$/.test(e.type))
          .reduce<Response | undefined>((acc, event) => accumulateResponse(event, acc), undefined);
        expect((plain(snapshot?.output) as JsonObject[]).map(contentOf)).toEqual(output.map(contentOf));
      }),
      { numRuns: 150 },
    );
  });
});

/** What a stream must reproduce in an output item: texts, refusals, annotations, arguments, summaries. */
function contentOf(item: JsonObject): JsonValue {
  const { status: _status, ...rest } = item;
  return rest;
}

/** The SDK's final response as plain JSON, without the helper fields it adds (`output_text`, `parsed`...). */
function withoutSdkHelpers(response: unknown): JsonValue {
  const { output_text: _text, output_parsed: _parsed, ...rest } = plain(response) as JsonObject;
  const output = (rest.output as JsonObject[]).map((item) => {
    const { parsed_arguments: _args, ...kept } = item;
    if (!Array.isArray(kept.content) || kept.type !== 'message') return kept;
    return { ...kept, content: (kept.content as JsonObject[]).map(({ parsed: _p, ...part }) => part) };
  });
  return { ...rest, output };
}

async function sdkFinalResponse(body: string): Promise<JsonValue> {
  const server = await serveSse(body, '/v1');
  try {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
    const response = await client.responses
      .stream({ model: REQUEST.model, input: REQUEST.input })
      .finalResponse();
    expect(server.requests[0]).toMatchObject({ stream: true, model: REQUEST.model });
    return withoutSdkHelpers(response);
  } finally {
    await server.close();
  }
}

describe('openai.responses against the official SDK', () => {
  it.each(Object.keys(ANSWERS))(
    'the SDK parses the synthesized %s stream back to the answer',
    async (name) => {
      const answer = ANSWERS[name]!;
      expect(await sdkFinalResponse(encodeSse(streamOf(answer)))).toEqual(answer);
    },
  );

  it.each([
    ['text', RESPONSE_TEXT_STREAM],
    ['reasoning + function call', RESPONSE_TOOL_STREAM],
  ])('the SDK and assemble agree on the recorded %s stream', async (_label, stream) => {
    expect(await sdkFinalResponse(stream)).toEqual(protocol.assemble(parseRecorded(stream)));
  });
});
