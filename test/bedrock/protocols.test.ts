import { describe, expect, test } from 'vitest';
import {
  bedrockConverseProtocol,
  bedrockConverseStreamProtocol,
} from '../../src/protocols/bedrock-converse.js';
import { bedrockInvokeStreamProtocol } from '../../src/protocols/bedrock-invoke.js';
import { matchRoute } from '../../src/protocols/index.js';
import type { JsonObject } from '../../src/protocols/types.js';
import { createEventStreamDecoder } from '../../src/sse/eventstream.js';
import { eventStreamFraming } from '../../src/sse/framing.js';
import type { SseEvent, SseEventInit } from '../../src/sse/types.js';

/** The Bedrock protocols as pure functions: routes, completeness, assembling and synthesizing. */

function events(list: SseEventInit[]): SseEvent[] {
  return eventStreamFraming.decode(Buffer.concat(list.map((e) => eventStreamFraming.encode(e))));
}
const ev = (event: string, data: object): SseEventInit => ({ event, data: JSON.stringify(data) });

const ANSWER: JsonObject = {
  output: {
    message: {
      role: 'assistant',
      content: [
        {
          reasoningContent: { reasoningText: { text: 'Let me think about the weather.', signature: 'c2ln' } },
        },
        { text: 'I will look that up for you.' },
        { toolUse: { toolUseId: 'tooluse_abc', name: 'get_weather', input: { city: 'Zürich', days: 3 } } },
      ],
    },
  },
  stopReason: 'tool_use',
  usage: { inputTokens: 21, outputTokens: 17, totalTokens: 38 },
  metrics: { latencyMs: 412 },
};

describe('routes', () => {
  test('a percent-encoded model id or ARN is one path segment, decoded for the key, kept raw for upstream', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku';
    const rawPath = `/model/${encodeURIComponent(arn)}/converse-stream`;
    const match = matchRoute(rawPath, {});
    expect(match?.protocol).toBe(bedrockConverseStreamProtocol);
    expect(match?.route).toEqual({ modelId: arn, rawPath, headers: {} });
    expect(matchRoute('/model/a/b/converse', {})).toBeUndefined();
    expect(matchRoute('/model//converse', {})).toBeUndefined();
    expect(matchRoute('/v1/messages', {})?.route).toBeUndefined();
  });

  test('converse and converse-stream share key material (one entry answers both)', () => {
    const route = (op: string) => ({ modelId: 'm', rawPath: `/model/m/${op}`, headers: {} });
    const body = { messages: [{ role: 'user', content: [{ text: 'hi' }] }], requestMetadata: { team: 'x' } };
    const a = bedrockConverseProtocol.validate(body, route('converse'));
    const b = bedrockConverseStreamProtocol.validate(body, route('converse-stream'));
    if (!a.ok || !b.ok) throw new Error('expected valid');
    expect(a.request.stream).toBe(false);
    expect(b.request.stream).toBe(true);
    expect(bedrockConverseProtocol.keyMaterial(a.request)).toEqual(
      bedrockConverseStreamProtocol.keyMaterial(b.request),
    );
    expect(bedrockConverseProtocol.keyMaterial(a.request)).toEqual({
      messages: body.messages,
      ':modelId': 'm',
    });
    expect(bedrockConverseProtocol.validate(body, undefined).ok).toBe(false);
  });
});

describe('ConverseStream completeness', () => {
  const complete = [
    ev('messageStart', { role: 'assistant' }),
    ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
    ev('contentBlockStop', { contentBlockIndex: 0 }),
    ev('messageStop', { stopReason: 'end_turn' }),
    ev('metadata', { usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 }, metrics: { latencyMs: 1 } }),
  ];

  test('messageStop and the trailing metadata: complete, with usage', () => {
    expect(bedrockConverseStreamProtocol.inspectStream(events(complete))).toEqual({
      complete: true,
      usage: { inputTokens: 3, outputTokens: 1 },
    });
  });

  test.each([
    ['no metadata', complete.slice(0, 4), 'no metadata'],
    ['no messageStop', [...complete.slice(0, 3), complete[4] as SseEventInit], 'metadata before messageStop'],
    ['no messageStart', complete.slice(1), 'messageStop without messageStart'],
    [
      'an exception frame',
      [
        ...complete.slice(0, 2),
        ev('exception:modelStreamErrorException', { message: 'x' }),
        ...complete.slice(2),
      ],
      'exception:modelStreamErrorException',
    ],
    [
      'an exception after metadata',
      [...complete, ev('exception:throttlingException', { message: 'x' })],
      'exception:throttlingException',
    ],
    [
      'an event after the terminal metadata',
      [...complete, ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: '!' } })],
      'after the terminal event',
    ],
  ])('%s: incomplete', (_name, list, reason) => {
    const verdict = bedrockConverseStreamProtocol.inspectStream(events(list));
    expect(verdict.complete).toBe(false);
    expect(verdict.complete ? '' : verdict.reason).toContain(reason);
  });
});

describe('assemble and synthesize', () => {
  test('a synthesized stream assembles back into the answer', () => {
    const synthesized = bedrockConverseStreamProtocol.synthesize(ANSWER, {
      body: {},
      model: 'm',
      stream: true,
      wantsStreamUsage: false,
    });
    expect(bedrockConverseStreamProtocol.assemble(events(synthesized))).toEqual(ANSWER);
    expect(bedrockConverseStreamProtocol.inspectStream(events(synthesized))).toMatchObject({
      complete: true,
    });
  });

  test('synthesized frames carry valid CRCs, word-sized text deltas, tool use, messageStop then metadata', () => {
    const frames = bedrockConverseStreamProtocol
      .synthesize(ANSWER, { body: {}, model: 'm', stream: true, wantsStreamUsage: false })
      .map((e) => eventStreamFraming.encode(e));
    const messages = createEventStreamDecoder().feed(Buffer.concat(frames));
    expect(messages).toHaveLength(frames.length);
    const decoded = events(
      bedrockConverseStreamProtocol.synthesize(ANSWER, {
        body: {},
        model: 'm',
        stream: true,
        wantsStreamUsage: false,
      }),
    );
    const texts = decoded
      .filter((e) => e.event === 'contentBlockDelta')
      .map((e) => (JSON.parse(e.data) as { delta: { text?: string } }).delta.text)
      .filter((t): t is string => t !== undefined);
    expect(texts).toEqual(['I', ' will', ' look', ' that', ' up', ' for', ' you.']);
    expect(decoded.some((e) => e.event === 'contentBlockStart' && e.data.includes('tooluse_abc'))).toBe(true);
    expect(decoded.slice(-2).map((e) => e.event)).toEqual(['messageStop', 'metadata']);
  });

  test('assembling ignores the p padding and keeps additionalModelResponseFields', () => {
    const list = [
      ev('messageStart', { role: 'assistant', p: 'abc' }),
      ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' }, p: 'abcdef' }),
      ev('messageStop', { stopReason: 'end_turn', additionalModelResponseFields: { x: 1 }, p: 'ab' }),
      ev('metadata', {
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
        metrics: { latencyMs: 5 },
        p: 'a',
      }),
    ];
    expect(bedrockConverseProtocol.assemble(events(list))).toEqual({
      output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } },
      stopReason: 'end_turn',
      additionalModelResponseFields: { x: 1 },
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      metrics: { latencyMs: 5 },
    });
  });

  test('inspectJson refuses error shapes and accepts an answer', () => {
    expect(bedrockConverseProtocol.inspectJson({ message: 'Too many requests' }).ok).toBe(false);
    expect(bedrockConverseProtocol.inspectJson(ANSWER)).toEqual({
      ok: true,
      usage: { inputTokens: 21, outputTokens: 17 },
    });
  });
});

describe('InvokeModelWithResponseStream', () => {
  const chunk = (data: object) =>
    ev('chunk', { bytes: Buffer.from(JSON.stringify(data)).toString('base64'), p: 'ab' });

  test('Anthropic chunks are judged by the Anthropic rule: message_stop is the proof', () => {
    const anthropic = [
      chunk({
        type: 'message_start',
        message: {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: 'claude',
          content: [],
          usage: { input_tokens: 5, output_tokens: 1 },
        },
      }),
      chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
      chunk({ type: 'content_block_stop', index: 0 }),
      chunk({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }),
      chunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 5 } }),
    ];
    expect(bedrockInvokeStreamProtocol.inspectStream(events(anthropic))).toMatchObject({
      complete: true,
      usage: { inputTokens: 5, outputTokens: 2 },
    });
    expect(bedrockInvokeStreamProtocol.inspectStream(events(anthropic.slice(0, 5))).complete).toBe(false);
  });

  test('an unknown family is not stored, with its own counted reason', () => {
    const llama = [
      chunk({ generation: 'Hi', stop_reason: null }),
      chunk({ generation: '', stop_reason: 'stop' }),
    ];
    expect(bedrockInvokeStreamProtocol.inspectStream(events(llama))).toMatchObject({
      complete: false,
      code: 'unknown_model_family',
    });
  });
});
