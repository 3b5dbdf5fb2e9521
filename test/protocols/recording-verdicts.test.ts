import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GateVerdict, judgeAnswer } from '../../src/capture/gate.js';
import { Recorder } from '../../src/capture/recorder.js';
import {
  anthropicMessagesProtocol,
  openaiChatProtocol,
  openaiCompletionsProtocol,
  openaiResponsesProtocol,
} from '../../src/protocols/index.js';
import type { EngineProtocol, Protocol, RequestInfo } from '../../src/protocols/types.js';
import { sseFraming } from '../../src/sse/framing.js';
import { readRecordedEvents } from '../../src/sse/recorded-events.js';
import { requestHash } from '../mock-upstream/answer.js';
import { anthropicMessages } from '../mock-upstream/anthropic-messages.js';
import { parseKnobs } from '../mock-upstream/knobs.js';
import { openaiChat } from '../mock-upstream/openai-chat.js';
import { openaiCompletions } from '../mock-upstream/openai-completions.js';
import { openaiResponses } from '../mock-upstream/openai-responses.js';
import type { MockProtocol, SseEvent as MockEvent } from '../mock-upstream/protocol.js';
import { splitAt } from '../sse/reference.js';

/**
 * The gate reads SSE recordings in place (protocol.inspectRecording over the Recorder's frame
 * ends) instead of decoding them and JSON-parsing every event. These tests hold it to the old
 * behaviour: over streams from the mock upstream, mutated in every way we could think of, the
 * gate's verdict (stored or not, the reason, the entry's spans, model and usage) equals what
 * decoding the body and asking protocol.inspectStream gives.
 */

const runs = { numRuns: Number(process.env.GATE_RUNS ?? 300) };
const META = { ttlMs: 60_000, namespace: 'default', tags: [] as string[] };
const NOW = 1_700_000_000_000;

interface Subject {
  name: string;
  protocol: Protocol;
  mock: MockProtocol;
  body: Record<string, unknown>;
}

const SUBJECTS: Subject[] = [
  {
    name: 'openai chat',
    protocol: openaiChatProtocol,
    mock: openaiChat,
    body: {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'call a tool, please' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    },
  },
  {
    name: 'openai chat, n = 2',
    protocol: openaiChatProtocol,
    mock: openaiChat,
    body: { model: 'gpt-4o-mini', stream: true, n: 2, messages: [{ role: 'user', content: 'two answers' }] },
  },
  {
    name: 'openai completions',
    protocol: openaiCompletionsProtocol,
    mock: openaiCompletions,
    body: { model: 'gpt-3.5-turbo-instruct', stream: true, prompt: 'Say hi', stream_options: { include_usage: true } },
  },
  {
    name: 'anthropic messages',
    protocol: anthropicMessagesProtocol,
    mock: anthropicMessages,
    body: {
      model: 'claude-sonnet-4-6',
      max_tokens: 512,
      stream: true,
      messages: [{ role: 'user', content: 'call a tool, please' }],
      tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }],
    },
  },
  {
    name: 'openai responses',
    protocol: openaiResponsesProtocol,
    mock: openaiResponses,
    body: {
      model: 'gpt-4o-mini',
      stream: true,
      input: 'call a tool, please',
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }],
    },
  },
];

function plan(subject: Subject, knobs: Record<string, string>): { events: MockEvent[]; errors: MockEvent[] } {
  const reply = subject.mock.reply({
    body: subject.body,
    knobs: parseKnobs(knobs, { delayMs: 0 }),
    hash: requestHash(subject.body),
    stream: true,
  });
  if (reply.kind !== 'stream') throw new Error('expected a stream plan');
  return { events: reply.plan.events, errors: reply.plan.errorEvents(0) };
}

function requestOf(subject: Subject): RequestInfo {
  const check = subject.protocol.validate(subject.body);
  if (!check.ok) throw new Error(check.message);
  return check.request;
}

/** The gate as it was: decode the whole body, then inspectStream on the decoded events. */
function referenceVerdict(protocol: EngineProtocol, request: RequestInfo, body: Buffer, recorder: Recorder): GateVerdict {
  let events;
  try {
    events = sseFraming.decode(body);
  } catch (err) {
    return { storable: false, reason: `sse_undecodable: ${String((err as { code?: unknown }).code)}` };
  }
  const verdict = protocol.inspectStream(events);
  if (!verdict.complete) return { storable: false, reason: `${verdict.code ?? 'incomplete_stream'}: ${verdict.reason}` };
  const eventEnds = events.map((e) => e.end);
  return {
    storable: true,
    entry: {
      version: 1,
      protocol: protocol.name,
      contentType: 'text/event-stream',
      createdAt: NOW,
      ttlMs: META.ttlMs,
      namespace: META.namespace,
      tags: META.tags,
      body,
      format: 'sse',
      model: verdict.model ?? request.model,
      usage: verdict.usage,
      eventEnds: Uint32Array.from(eventEnds),
      eventTimes: recorder.timesFor(eventEnds),
      usageEventIndex: verdict.usageEventIndex,
    },
  };
}

function record(bytes: Uint8Array, cutPoints: readonly number[]): Recorder {
  const recorder = new Recorder(8 * 1024 * 1024, sseFraming);
  let now = 0;
  for (const piece of splitAt(bytes, cutPoints)) recorder.push(piece, (now += 3));
  return recorder;
}

/** Both gates on one recording; also reports whether the in-place reader settled it alone. */
function judgeBoth(subject: Subject, bytes: Uint8Array, cutPoints: readonly number[] = []) {
  const request = requestOf(subject);
  const recorder = record(bytes, cutPoints);
  const head = { status: 200, contentType: 'text/event-stream' };
  const actual = judgeAnswer(subject.protocol, request, head, recorder, META, NOW);
  const expected = referenceVerdict(subject.protocol, request, recorder.bytes(), recorder);
  const fast = subject.protocol.inspectRecording?.(readRecordedEvents(recorder.bytes(), recorder.frameEnds));
  return { actual, expected, fast };
}

// ---- Mutations --------------------------------------------------------------------------------

/** Raw snippets spliced into an event's JSON text: some keep it valid JSON, most do not. */
const SNIPPETS = [
  '[DONE]',
  '"error"',
  '"error":{"message":"boom"},',
  ',"error":{"message":"boom"}',
  ',"error":null',
  ',"error":"plain string"',
  ',"finish_reason":"stop"',
  '"finish_reason":"stop",',
  ',"choices":[]',
  ',"choices":[{"index":0,"finish_reason":"stop"}]',
  ',"usage":{"prompt_tokens":3,"completion_tokens":4}',
  ',"usage":{"input_tokens":5,"output_tokens":6}',
  ',"model":"other-model"',
  ',"mod\\u0065l":"escaped-name"',
  ',"fin\\u0069sh_reason":"stop"',
  ',"type":"message_stop"',
  ',"ty\\u0070e":"error"',
  ',"type":"response.completed"',
  ',"type":"response.failed"',
  ',"response":{"object":"response","status":"completed","output":[]}',
  ',"type":"error"',
  ',"index":1',
  ',"index":-0',
  ',"index":1e400',
  '\\"',
  '\\u0022',
  '\\ud83d\\ude00',
  '\\x',
  '\\u12',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  ' ',
  '\t',
  'é',
  '\u0001',
  '01',
  '-',
  '1.',
  '.5',
  '1e',
  'tru',
  'nul',
  'true',
  'null',
];

/** A content-level change that always stays valid JSON: adversarial text inside a string. */
const CONTENT_TEXT = [
  'data: [DONE]\n\n',
  '[DONE]',
  '"error": {"message": "x"}',
  '"finish_reason":"stop"',
  'event: message_stop\n\ndata: {"type":"message_stop"}',
  'back\\slash and "quotes"',
  '\u0000\u001f control',
  'é世界🎉',
  '\ud800 lone surrogate',
];

type Mutation =
  | { kind: 'splice'; event: number; at: number; snippet: string }
  | { kind: 'delete'; event: number; at: number; length: number }
  | { kind: 'content'; event: number; text: string }
  | { kind: 'drop'; event: number }
  | { kind: 'duplicate'; event: number }
  | { kind: 'error-event'; event: number }
  | { kind: 'event-name'; event: number; name: string }
  | { kind: 'split-data'; event: number; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('splice' as const), event: fc.nat(), at: fc.nat(), snippet: fc.constantFrom(...SNIPPETS) }),
  fc.record({ kind: fc.constant('delete' as const), event: fc.nat(), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('content' as const), event: fc.nat(), text: fc.constantFrom(...CONTENT_TEXT) }),
  fc.record({ kind: fc.constant('drop' as const), event: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), event: fc.nat() }),
  fc.record({ kind: fc.constant('error-event' as const), event: fc.nat() }),
  fc.record({ kind: fc.constant('event-name' as const), event: fc.nat(), name: fc.constantFrom('error', 'ping', '', 'message_stop') }),
  fc.record({ kind: fc.constant('split-data' as const), event: fc.nat(), at: fc.nat() }),
);

/** Replaces the first string found under a `content`/`text`/`partial_json`/`arguments` key (of valid JSON). */
function withContent(data: string, text: string): string {
  let replaced = false;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return data;
  }
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      const textual = ['content', 'text', 'partial_json', 'arguments'].includes(key) && typeof child === 'string';
      out[key] = textual && !replaced ? ((replaced = true), text) : visit(child);
    }
    return out;
  };
  return JSON.stringify(visit(value));
}

interface WireEvent {
  event?: string | undefined;
  /** Data lines; more than one splits the data the way a server may. */
  lines: string[];
}

function applyMutation(events: WireEvent[], errors: MockEvent[], m: Mutation): WireEvent[] {
  if (events.length === 0) return events;
  const i = m.event % events.length;
  const target = events[i] as WireEvent;
  const out = [...events];
  const data = target.lines.join('\n');
  switch (m.kind) {
    case 'splice': {
      const at = m.at % (data.length + 1);
      out[i] = { ...target, lines: [data.slice(0, at) + m.snippet + data.slice(at)] };
      break;
    }
    case 'delete': {
      const at = m.at % Math.max(1, data.length);
      out[i] = { ...target, lines: [data.slice(0, at) + data.slice(at + m.length)] };
      break;
    }
    case 'content':
      if (data.startsWith('{')) out[i] = { ...target, lines: [withContent(data, m.text)] };
      break;
    case 'drop':
      out.splice(i, 1);
      break;
    case 'duplicate':
      out.splice(i, 0, target);
      break;
    case 'error-event':
      out.splice(i, 0, ...errors.map((e) => ({ event: e.event, lines: [e.data] })));
      break;
    case 'event-name':
      out[i] = { ...target, event: m.name };
      break;
    case 'split-data': {
      // JSON allows a line break between tokens, so data over two lines can still be a chunk.
      const at = m.at % (data.length + 1);
      out[i] = { ...target, lines: [data.slice(0, at), data.slice(at)] };
      break;
    }
  }
  return out;
}

interface Framing {
  eol: '\n' | '\r\n' | '\r';
  bom: boolean;
  keepalive: boolean;
}

function encode(events: readonly WireEvent[], framing: Framing): Uint8Array {
  const { eol } = framing;
  let text = framing.bom ? '\uFEFF' : '';
  for (const event of events) {
    if (framing.keepalive) text += `: keep-alive${eol}${eol}`;
    if (event.event !== undefined) text += `event: ${event.event}${eol}`;
    for (const line of event.lines) text += `data: ${line}${eol}`;
    text += eol;
  }
  return new TextEncoder().encode(text);
}

const framingArb: fc.Arbitrary<Framing> = fc.record({
  eol: fc.constantFrom('\n' as const, '\r\n' as const, '\r' as const),
  bom: fc.boolean(),
  keepalive: fc.boolean(),
});

const knobsArb = fc.record({
  'x-mock-words': fc.integer({ min: 1, max: 12 }).map(String),
  'x-mock-tool-call': fc.constantFrom('0', '1'),
  'x-mock-reasoning': fc.constantFrom('0', '1'),
  'x-mock-refusal': fc.constantFrom('0', '0', '1'),
  'x-mock-done-in-content': fc.constantFrom('0', '0', '1'),
});

function wire(events: readonly MockEvent[]): WireEvent[] {
  return events.map((e) => ({ event: e.event, lines: [e.data] }));
}

describe.each(SUBJECTS)('gate verdicts on recordings read in place: $name', (subject) => {
  it('mock upstream streams, untouched: stored, the in-place reader alone decides, same entry', () => {
    fc.assert(
      fc.property(knobsArb, framingArb, fc.array(fc.nat(), { maxLength: 20 }), (knobs, framing, cutPoints) => {
        const { events } = plan(subject, { ...knobs, 'x-mock-done-in-content': '0' });
        const { actual, expected, fast } = judgeBoth(subject, encode(wire(events), framing), cutPoints);
        expect(actual).toEqual(expected);
        // A stream whose last line ending is a lone CR may have been cut inside a CRLF: never proof.
        if (framing.eol !== '\r') {
          expect(actual.storable).toBe(true);
          expect(fast?.complete).toBe(true);
        }
      }),
      { numRuns: Math.ceil(runs.numRuns / 3) },
    );
  });

  it('mutated streams: the same verdict as decoding and JSON-parsing every event', () => {
    let fastDecided = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        knobsArb,
        framingArb,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (knobs, framing, mutations, cutPoints) => {
          const { events, errors } = plan(subject, knobs);
          let mutated = wire(events);
          for (const m of mutations) mutated = applyMutation(mutated, errors, m);
          const { actual, expected, fast } = judgeBoth(subject, encode(mutated, framing), cutPoints);
          expect(actual).toEqual(expected);
          // The in-place reader either proves completeness or stays out of it; it never refuses alone.
          if (fast !== undefined) {
            fastDecided++;
            expect(expected.storable).toBe(true);
          }
          if (!expected.storable) refused++;
        },
      ),
      runs,
    );
    // Not vacuous: both kinds of outcome occurred.
    expect(fastDecided).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

// ---- Hand-written adversaries, with the verdict spelled out ------------------------------------

function chatStream(chunks: readonly string[]): Uint8Array {
  return new TextEncoder().encode([...chunks, '[DONE]'].map((data) => `data: ${data}\n\n`).join(''));
}

const chatChunk = (choice: string, extra = '') =>
  `{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini"${extra},"choices":[${choice}]}`;
const CHAT = SUBJECTS[0] as Subject;

describe('gate adversaries (OpenAI chat)', () => {
  const finish = '{"index":0,"delta":{},"finish_reason":"stop"}';

  it('a delta whose text holds [DONE], "error" and "finish_reason":"stop" is content: stored, proven in place', () => {
    const text = JSON.stringify('data: [DONE]\n\n {"error":{"message":"x"}} "finish_reason":"stop" \\"q\\" \u00e9');
    const stream = chatStream([chatChunk(`{"index":0,"delta":{"content":${text}},"finish_reason":null}`), chatChunk(finish)]);
    const { actual, expected, fast } = judgeBoth(CHAT, stream);
    expect(actual).toEqual(expected);
    expect(actual.storable).toBe(true);
    expect(fast).toEqual({ complete: true, model: 'gpt-4o-mini' });
  });

  it('an error object nested in a delta is content; at the top level it refuses the stream', () => {
    const nested = chatChunk('{"index":0,"delta":{"error":{"message":"not mine"}},"finish_reason":null}');
    expect(judgeBoth(CHAT, chatStream([nested, chatChunk(finish)])).actual.storable).toBe(true);
    const top = chatChunk('{"index":0,"delta":{},"finish_reason":null}', ',"error":{"message":"boom"}');
    const { actual, expected } = judgeBoth(CHAT, chatStream([top, chatChunk(finish)]));
    expect(actual).toEqual(expected);
    expect(actual).toEqual({ storable: false, reason: 'incomplete_stream: error in event 0: boom' });
  });

  it('"error": null is no error, and a later duplicate member wins as in JSON.parse', () => {
    const nullError = chatChunk(finish, ',"error":null');
    expect(judgeBoth(CHAT, chatStream([nullError])).actual.storable).toBe(true);
    const revived = chatChunk(finish, ',"error":null,"error":{"message":"late"}');
    expect(judgeBoth(CHAT, chatStream([revived])).actual).toEqual({
      storable: false,
      reason: 'incomplete_stream: error in event 0: late',
    });
    const unfinished = `{"model":"m","choices":[${finish}],"choices":[{"index":0,"finish_reason":null}]}`;
    expect(judgeBoth(CHAT, chatStream([unfinished])).actual).toEqual({
      storable: false,
      reason: 'incomplete_stream: choice 0 never got a finish_reason',
    });
  });

  it('a chunk that repeats the one before with other text is judged by its pattern; any other difference is read in full', () => {
    const delta = (text: string, rest = '"finish_reason":null') => chatChunk(`{"index":0,"delta":{"content":${text}},${rest}}`);
    const open = [delta('"Hello"'), delta('" world"'), delta('"\\u00e9\\n \\"q\\""'), delta('"caf\u00e9"')];
    // The same bytes around each string value, other strings: stored, with the facts of a full read.
    const same = judgeBoth(CHAT, chatStream([...open, chatChunk(finish)]));
    expect(same.actual).toEqual(same.expected);
    expect(same.actual.storable).toBe(true);
    expect(same.fast).toEqual({ complete: true, model: 'gpt-4o-mini' });
    // Each of these differs from the chunk before outside a string value (or breaks one): the
    // verdict must be the full gate's, whatever it is.
    const variants = [
      delta('"x"', '"finish_reason":"stop"'), // a finish reason where there was null
      chatChunk('{"index":1,"delta":{"content":"x"},"finish_reason":null}'), // another choice
      chatChunk('{"index":0,"delta":{"content":"x"},"finish_reason":null}', ',"error":{"message":"late"}'),
      delta('"x"').replace('"gpt-4o-mini"', '"gpt-4o"'), // the model is a fact, never a hole
      delta('"x"').replace('"content"', '"contents"'), // a member name is never a hole
      delta('"x\u0001"'), // a raw control character in a hole
      delta('"x\\q"'), // an invalid escape in a hole
      delta('"x'), // an unterminated hole
      delta('"x""y"'), // two strings where one was
      delta('42'), // a number where a string was
      delta('"x"') + ' ', // trailing whitespace
      `${delta('"x"')}x`, // a second value
      delta('"x"').replace('"c1"', '"c2"'), // another id: a hole, stored
      delta('7'), // a number where a string was
      chatChunk('{"index":0,"delta":{"content":"x"},"finish_reason":null}', ',"usage":{"prompt_tokens":1,"completion_tokens":2}'),
    ];
    for (const variant of variants) {
      for (const stream of [
        chatStream([open[0] as string, variant, chatChunk(finish)]),
        chatStream([...open, variant, chatChunk(finish)]),
        chatStream([...open, variant, delta('"after"'), chatChunk(finish)]),
      ]) {
        const { actual, expected } = judgeBoth(CHAT, stream);
        expect(actual, variant).toEqual(expected);
      }
    }
    // Not vacuous: some variants are refused, some stored.
    const outcomes = variants.map((v) => judgeBoth(CHAT, chatStream([...open, v, chatChunk(finish)])).actual.storable);
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
  });

  it('usage in a chunk that repeats the one before is read from that chunk, never carried over', () => {
    const usage = (n: number) => chatChunk('', `,"usage":{"prompt_tokens":${n},"completion_tokens":${n + 1},"total_tokens":${2 * n + 1}}`).replace('"choices":[]', '"choices":[]');
    const stream = chatStream([chatChunk(finish), usage(3), usage(7)]);
    const { actual, expected } = judgeBoth(CHAT, stream);
    expect(actual).toEqual(expected);
    expect(actual.storable).toBe(true);
    if (actual.storable) expect(actual.entry.usage).toEqual(expect.objectContaining({ inputTokens: 7, outputTokens: 8 }));
  });

  it('an escaped member name means what JSON.parse says it means', () => {
    const escaped = '{"model":"m","choices":[{"index":0,"fin\\u0069sh_reason":"stop"}]}';
    const { actual, expected, fast } = judgeBoth(CHAT, chatStream([escaped]));
    expect(fast).toBeUndefined();
    expect(actual).toEqual(expected);
    expect(actual.storable).toBe(true);
  });

  it('a malformed event, a trailing comma or a second value refuses the stream with the full reason', () => {
    for (const bad of [chatChunk(finish).slice(0, -1), chatChunk(`${finish},`), `${chatChunk(finish)} {}`, `${chatChunk(finish)}x`]) {
      const { actual, expected } = judgeBoth(CHAT, chatStream([bad]));
      expect(actual).toEqual(expected);
      expect(actual).toEqual({ storable: false, reason: 'incomplete_stream: event 0 is not a JSON object' });
    }
  });

  it('[DONE] only counts as a whole event, and nothing may follow it', () => {
    const early = new TextEncoder().encode(`data: [DONE]\n\ndata: ${chatChunk(finish)}\n\ndata: [DONE]\n\n`);
    const { actual, expected } = judgeBoth(CHAT, early);
    expect(actual).toEqual(expected);
    expect(actual.storable).toBe(false);
    const spaced = new TextEncoder().encode(`data: ${chatChunk(finish)}\n\ndata: [DONE] \n\n`);
    expect(judgeBoth(CHAT, spaced).actual).toEqual({
      storable: false,
      reason: 'incomplete_stream: event 1 is not a JSON object',
    });
  });
});

describe('gate adversaries (Anthropic messages)', () => {
  const ANTHROPIC = SUBJECTS[3] as Subject;
  const stream = (middle: readonly string[], last = '{"type":"message_stop"}') =>
    new TextEncoder().encode(
      [
        '{"type":"message_start","message":{"id":"m1","type":"message","model":"claude-x","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}',
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        ...middle,
        '{"type":"content_block_stop","index":0}',
        '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}',
        last,
      ]
        .map((data) => `event: x\ndata: ${data}\n\n`)
        .join(''),
    );

  it('a text delta that spells a message_stop or an error is content: stored, proven in place', () => {
    const text = JSON.stringify('{"type":"message_stop"} {"type":"error"} \\u0022 "type":"error"');
    const { actual, expected, fast } = judgeBoth(ANTHROPIC, stream([
      `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${text}}}`,
    ]));
    expect(actual).toEqual(expected);
    expect(fast).toEqual({ complete: true, model: 'claude-x', usage: { inputTokens: 3, outputTokens: 7 } });
  });

  it('an error event, by name or by type, refuses the stream', () => {
    const named = new TextEncoder().encode(
      `${new TextDecoder().decode(stream([]))}`.replace('event: x\ndata: {"type":"content_block_stop"', 'event: error\ndata: {"type":"content_block_stop"'),
    );
    const byName = judgeBoth(ANTHROPIC, named);
    expect(byName.actual).toEqual(byName.expected);
    expect(byName.actual.storable).toBe(false);
    const byType = judgeBoth(ANTHROPIC, stream(['{"type":"error","error":{"type":"overloaded_error","message":"busy"}}']));
    expect(byType.actual).toEqual(byType.expected);
    expect(byType.actual).toEqual({ storable: false, reason: 'incomplete_stream: error event at index 2' });
  });

  it('a delta that repeats the one before with other text or numbers is judged by its pattern; any other difference is read in full', () => {
    const delta = (index: string, text: string, type = 'content_block_delta') =>
      `{"type":"${type}","index":${index},"delta":{"type":"text_delta","text":${text}}}`;
    const open = [delta('0', '"Hello"'), delta('0', '" world"'), delta('0', '"\\u00e9\\n \\"q\\""')];
    const same = judgeBoth(ANTHROPIC, stream([...open, delta('0', '"!"')]));
    expect(same.actual).toEqual(same.expected);
    expect(same.fast).toEqual({ complete: true, model: 'claude-x', usage: { inputTokens: 3, outputTokens: 7 } });
    const variants = [
      delta('0', '"x"', 'message_stop'), // a tallied type where the pattern has a delta's: the type is a fact
      delta('0', '"x"', 'error'),
      delta('0', '"x"', 'content_block_stop'),
      delta('0', '"x"', 'content_bl\\u006fck_delta'), // an escaped type
      delta('1', '"x"'), // another number: a hole
      delta('-0', '"x"'),
      delta('1e2', '"x"'),
      delta('01', '"x"'), // not a JSON number
      delta('"0"', '"x"'), // a string where a number was
      delta('0', '7'), // a number where a string was
      delta('0', '"x\u0001"'), // a raw control character in a hole
      delta('0', '"x"').replace('"text_delta"', '"input_json_delta"'), // a string hole, other text
      delta('0', '"x"').replace('"index"', '"ind\\u0065x"'), // an escaped member name
      `${delta('0', '"x"')} `, // trailing whitespace
      delta('0', '"x"').replace('}}', '},"extra":true}'), // another member
    ];
    for (const variant of variants) {
      // Right after the first delta (the pattern as learned) and after a few (the pattern refined).
      for (const middle of [[open[0] as string, variant], [...open, variant], [...open, variant, delta('0', '"after"')]]) {
        const { actual, expected } = judgeBoth(ANTHROPIC, stream(middle));
        expect(actual, variant).toEqual(expected);
      }
    }
    const outcomes = variants.map((v) => judgeBoth(ANTHROPIC, stream([...open, v])).actual.storable);
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
  });

  it('an escaped type is read as JSON.parse reads it', () => {
    const escaped = stream([], '{"type":"message\\u005fstop"}');
    const { actual, expected, fast } = judgeBoth(ANTHROPIC, escaped);
    expect(fast).toBeUndefined();
    expect(actual).toEqual(expected);
    expect(actual.storable).toBe(true);
  });
});

/** The event name a Responses server gives an event: its type (`x` for an event that is not JSON). */
function eventName(data: string): string {
  try {
    return String((JSON.parse(data) as { type?: unknown }).type);
  } catch {
    return 'x';
  }
}

describe('gate adversaries (OpenAI responses)', () => {
  const RESPONSES = SUBJECTS[4] as Subject;
  const response = (status: string) =>
    `{"id":"r1","object":"response","status":"${status}","model":"gpt-4o-mini","output":[],"usage":{"input_tokens":2,"output_tokens":3}}`;
  const stream = (middle: readonly string[]) =>
    new TextEncoder().encode(
      [
        `{"type":"response.created","response":${response('in_progress')}}`,
        ...middle,
        `{"type":"response.completed","response":${response('completed')}}`,
      ]
        .map((data) => `event: ${eventName(data)}\ndata: ${data}\n\n`)
        .join(''),
    );

  it('a delta that spells response.completed or an error is content: stored, proven in place', () => {
    const delta = JSON.stringify('{"type":"response.completed"} "error": {"message":"x"}');
    const { actual, expected, fast } = judgeBoth(RESPONSES, stream([`{"type":"response.output_text.delta","delta":${delta}}`]));
    expect(actual).toEqual(expected);
    expect(fast).toEqual({ complete: true, model: 'gpt-4o-mini', usage: { inputTokens: 2, outputTokens: 3 } });
  });

  it('a delta that repeats the one before with other text or sequence number is judged by its pattern; any other difference is read in full', () => {
    const delta = (sequence: string, text: string, type = 'response.output_text.delta', extra = '') =>
      `{"type":"${type}","sequence_number":${sequence},"item_id":"msg_1","output_index":0,"content_index":0,"delta":${text}${extra}}`;
    const open = [delta('1', '"Hello"'), delta('2', '" world"'), delta('3', '"\\u00e9"')];
    const same = judgeBoth(RESPONSES, stream([...open, delta('4', '"!"')]));
    expect(same.actual).toEqual(same.expected);
    expect(same.fast).toEqual({ complete: true, model: 'gpt-4o-mini', usage: { inputTokens: 2, outputTokens: 3 } });
    const variants = [
      delta('4', '"x"', 'response.failed'), // a judged type: the type is a fact
      delta('4', '"x"', 'response.incomplete'),
      delta('4', '"x"', 'error'),
      delta('4', '"x"', 'response.output_text.d\\u0065lta'), // an escaped type
      delta('4', '"x"', 'response.output_text.delta', ',"error":{"message":"late"}'),
      delta('4', '"x"', 'response.output_text.delta', ',"error":null'),
      delta('4', '"x"', 'response.output_text.delta', ',"error":"plain"'),
      delta('4.5', '"x"'), // any number is a number
      delta('-4', '"x"'),
      delta('4e1', '"x"'),
      delta('04', '"x"'), // not a JSON number
      delta('"4"', '"x"'), // a string where a number was
      delta('4', '4'), // a number where a string was
      delta('4', '"x"').replace('"msg_1"', '"msg_2"'), // another item id: a hole
      delta('4', '"x"').replace('"output_index":0', '"output_index":1'),
    ];
    for (const variant of variants) {
      for (const middle of [[open[0] as string, variant], [...open, variant], [...open, variant, delta('5', '"after"')]]) {
        const { actual, expected } = judgeBoth(RESPONSES, stream(middle));
        expect(actual, variant).toEqual(expected);
      }
    }
    const outcomes = variants.map((v) => judgeBoth(RESPONSES, stream([...open, v])).actual.storable);
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
  });

  it('a top-level error on any event refuses the stream; a null one does not', () => {
    const refused = judgeBoth(RESPONSES, stream(['{"type":"response.output_text.delta","delta":"a","error":{"message":"boom"}}']));
    expect(refused.actual).toEqual(refused.expected);
    expect(refused.actual).toEqual({ storable: false, reason: 'incomplete_stream: error event at index 1: boom' });
    const nullError = judgeBoth(RESPONSES, stream(['{"type":"response.output_text.delta","delta":"a","error":null}']));
    expect(nullError.actual).toEqual(nullError.expected);
    expect(nullError.actual.storable).toBe(true);
  });
});
