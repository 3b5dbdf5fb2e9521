import { describe, expect, test } from 'vitest';
import { geminiGenerateProtocol, geminiStreamProtocol } from '../../src/protocols/gemini.js';
import type { JsonObject, RequestInfo, RouteParams } from '../../src/protocols/types.js';
import { sseFraming } from '../../src/sse/framing.js';
import type { SseEvent } from '../../src/sse/types.js';

/** The Gemini protocol on its own: routes, validation, the completeness rule, assemble and synthesize. */

function route(operation: string, search = '', model = 'models/gemini-2.5-flash'): RouteParams {
  const rawPath = `/v1beta/${model}:${operation}`;
  const params = (operation === 'generateContent' ? geminiGenerateProtocol : geminiStreamProtocol).matchPath?.(rawPath);
  if (!params) throw new Error(`no route for ${rawPath}`);
  return { ...params, search, headers: {} };
}

function request(operation: string, search = '', body: JsonObject = { contents: [] }): RequestInfo {
  const protocol = operation === 'generateContent' ? geminiGenerateProtocol : geminiStreamProtocol;
  const check = protocol.validate(body, route(operation, search));
  if (!check.ok) throw new Error(check.message);
  return check.request;
}

function events(...responses: unknown[]): SseEvent[] {
  const text = responses.map((r) => `data: ${JSON.stringify(r)}\r\n\r\n`).join('');
  return sseFraming.decode(new TextEncoder().encode(text));
}

const chunk = (text: string) => ({ candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0 }] });
const final = (text: string, finishReason = 'STOP', extra: JsonObject = {}) => ({
  candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason, index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
  modelVersion: 'gemini-2.5-flash-001',
  ...extra,
});

describe('routes and validation', () => {
  test('models, tuned models and versioned ids match; other paths do not', () => {
    expect(geminiStreamProtocol.matchPath?.('/v1beta/models/gemini-2.5-flash:streamGenerateContent')?.modelId).toBe(
      'models/gemini-2.5-flash',
    );
    expect(geminiGenerateProtocol.matchPath?.('/v1beta/tunedModels/abc-123:generateContent')?.modelId).toBe('tunedModels/abc-123');
    expect(geminiGenerateProtocol.matchPath?.('/v1/models/gemini-1.5-pro-002:generateContent')?.modelId).toBe(
      'models/gemini-1.5-pro-002',
    );
    expect(geminiGenerateProtocol.matchPath?.('/v1beta/models/x:streamGenerateContent')).toBeUndefined();
    expect(geminiGenerateProtocol.matchPath?.('/v1beta/models/a/b:generateContent')).toBeUndefined();
    expect(geminiGenerateProtocol.matchPath?.('/v1/chat/completions')).toBeUndefined();
  });

  test('alt decides the framing; the JSON-array form is keyed apart; the model and version are key material', () => {
    expect(request('generateContent').stream).toBe(false);
    expect(request('streamGenerateContent', '?alt=sse').stream).toBe(true);
    const array = request('streamGenerateContent');
    expect(array.stream).toBe(false);
    expect(array.routeKey).toEqual({ ':version': 'v1beta', ':model': 'models/gemini-2.5-flash', ':framing': 'json-array' });
    expect(geminiGenerateProtocol.keyMaterial(request('generateContent'))).toEqual(
      geminiStreamProtocol.keyMaterial(request('streamGenerateContent', '?alt=sse')),
    );
    expect(request('generateContent').model).toBe('gemini-2.5-flash');
  });

  test('bad bodies name the field', () => {
    const check = geminiGenerateProtocol.validate({ contents: 'hi' }, route('generateContent'));
    expect(check).toMatchObject({ ok: false, status: 400, param: 'contents' });
    expect(geminiGenerateProtocol.validate({ contents: [], generationConfig: [] }, route('generateContent'))).toMatchObject({
      ok: false,
      param: 'generationConfig',
    });
    expect(geminiGenerateProtocol.validate([], route('generateContent'))).toMatchObject({ ok: false });
  });
});

describe('the completeness rule', () => {
  const sse = request('streamGenerateContent', '?alt=sse');
  test('complete: every candidate of the last event has STOP; usage and model version read', () => {
    expect(geminiStreamProtocol.inspectStream(events(chunk('a'), final(' b')), sse)).toEqual({
      complete: true,
      model: 'gemini-2.5-flash-001',
      usage: { inputTokens: 3, outputTokens: 2 },
    });
  });

  test.each([
    ['no finishReason at the end', [chunk('a'), chunk('b')]],
    ['an event after the final one', [final('a'), chunk('b')]],
    ['SAFETY', [chunk('a'), final('', 'SAFETY')]],
    ['an error object', [chunk('a'), { error: { code: 500, message: 'x', status: 'INTERNAL' } }]],
    ['a block reason', [{ promptFeedback: { blockReason: 'OTHER' } }]],
    ['one of two candidates unfinished', [
      { candidates: [{ index: 0, finishReason: 'STOP', content: { parts: [] } }, { index: 1, content: { parts: [{ text: 'x' }] } }] },
    ]],
    ['no events', []],
  ])('incomplete: %s', (_label, responses) => {
    expect(geminiStreamProtocol.inspectStream(events(...responses), sse).complete).toBe(false);
  });

  describe('several candidates (candidateCount)', () => {
    const piece = (index: number, text: string, finishReason?: string) => ({
      index,
      content: { parts: [{ text }], role: 'model' },
      ...(finishReason === undefined ? {} : { finishReason }),
    });
    const two = request('streamGenerateContent', '?alt=sse', { contents: [], generationConfig: { candidateCount: 2 } });

    test('incomplete: the last event finishes candidate 0 only, candidate 1 never finished', () => {
      const stream = events({ candidates: [piece(0, 'a'), piece(1, 'x')] }, { candidates: [piece(0, 'b', 'STOP')] });
      for (const req of [sse, two]) {
        const verdict = geminiStreamProtocol.inspectStream(stream, req);
        expect(verdict).toEqual({ complete: false, reason: 'candidate 1 never finished (no finishReason)' });
      }
      const array = request('streamGenerateContent', '', { contents: [], generationConfig: { candidateCount: 2 } });
      expect(
        geminiStreamProtocol.inspectJson([{ candidates: [piece(0, 'a'), piece(1, 'x')] }, { candidates: [piece(0, 'b', 'STOP')] }], array).ok,
      ).toBe(false);
    });

    test('incomplete: the request asked for two candidates and only one came', () => {
      const stream = events({ candidates: [piece(0, 'a')] }, { candidates: [piece(0, 'b', 'STOP')] });
      expect(geminiStreamProtocol.inspectStream(stream, two).complete).toBe(false);
      expect(geminiStreamProtocol.inspectStream(stream, sse).complete).toBe(true);
    });

    test('complete: candidates finish in different events; assemble keeps every candidate to its end', () => {
      const stream = events(
        { candidates: [piece(0, 'a'), piece(1, 'x')] },
        { candidates: [piece(0, 'b', 'STOP')] },
        { candidates: [piece(1, 'y', 'STOP')], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 4, totalTokenCount: 5 } },
      );
      expect(geminiStreamProtocol.inspectStream(stream, two).complete).toBe(true);
      expect(geminiStreamProtocol.inspectStream(stream, sse).complete).toBe(true);
      expect(geminiStreamProtocol.assemble(stream)).toEqual({
        candidates: [
          { content: { parts: [{ text: 'ab' }], role: 'model' }, index: 0, finishReason: 'STOP' },
          { content: { parts: [{ text: 'xy' }], role: 'model' }, index: 1, finishReason: 'STOP' },
        ],
        usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 4, totalTokenCount: 5 },
      });
      // Still nothing may follow the event that finished the last candidate.
      const trailing = events({ candidates: [piece(0, 'a', 'STOP'), piece(1, 'x', 'STOP')] }, { candidates: [piece(1, 'z')] });
      expect(geminiStreamProtocol.inspectStream(trailing, two).complete).toBe(false);
    });
  });

  test('MAX_TOKENS only when the request set maxOutputTokens', () => {
    const stream = events(chunk('a'), final('b', 'MAX_TOKENS'));
    expect(geminiStreamProtocol.inspectStream(stream, sse).complete).toBe(false);
    const limited = request('streamGenerateContent', '?alt=sse', { contents: [], generationConfig: { maxOutputTokens: 2 } });
    expect(geminiStreamProtocol.inspectStream(stream, limited).complete).toBe(true);
  });

  test('the JSON answer and the JSON array are judged by the same rule, each in its own form', () => {
    const json = request('generateContent');
    expect(geminiGenerateProtocol.inspectJson(final('ab'), json).ok).toBe(true);
    expect(geminiGenerateProtocol.inspectJson(final('ab', 'RECITATION'), json).ok).toBe(false);
    expect(geminiGenerateProtocol.inspectJson([final('ab')], json).ok).toBe(false);
    const array = request('streamGenerateContent');
    expect(geminiStreamProtocol.inspectJson([chunk('a'), final('b')], array).ok).toBe(true);
    expect(geminiStreamProtocol.inspectJson([chunk('a')], array).ok).toBe(false);
    expect(geminiStreamProtocol.inspectJson(final('b'), array).ok).toBe(false);
  });
});

describe('assemble and synthesize', () => {
  test('a stream assembles into the non-stream answer, text joined, usage only where recorded', () => {
    const answer = geminiStreamProtocol.assemble(events(chunk('Hello'), chunk(' wide'), final(' world')));
    expect(answer).toEqual({
      candidates: [{ content: { parts: [{ text: 'Hello wide world' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
      modelVersion: 'gemini-2.5-flash-001',
    });
    const { usageMetadata: _usage, ...withoutUsage } = final(' world');
    expect(geminiStreamProtocol.assemble(events(chunk('Hi'), withoutUsage))).not.toHaveProperty('usageMetadata');
  });

  test('synthesize then assemble gives the answer back (text, function call, thoughts, two candidates)', () => {
    const answer: JsonObject = {
      candidates: [
        {
          content: {
            parts: [
              { text: 'Let me think about it.', thought: true },
              { text: 'The answer is 42, said the café.' },
              { functionCall: { name: 'lookup', args: { q: 'x' } } },
            ],
            role: 'model',
          },
          finishReason: 'STOP',
          index: 0,
        },
        { content: { parts: [{ text: 'Another take.' }], role: 'model' }, finishReason: 'STOP', index: 1 },
      ],
      usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 9, totalTokenCount: 13 },
      modelVersion: 'gemini-2.5-pro',
      responseId: 'r1',
    };
    const synthesized = geminiGenerateProtocol.synthesize(answer, request('streamGenerateContent', '?alt=sse'));
    expect(synthesized.length).toBeGreaterThan(5);
    const decoded = sseFraming.decode(Buffer.concat(synthesized.map((e) => Buffer.from(sseFraming.encode(e)))));
    expect(geminiStreamProtocol.inspectStream(decoded).complete).toBe(true);
    expect(geminiStreamProtocol.assemble(decoded)).toEqual(answer);
    // Usage only where it was recorded: an answer without it streams without it.
    const { usageMetadata: _usage, ...bare } = answer;
    const events = geminiGenerateProtocol.synthesize(bare, request('streamGenerateContent', '?alt=sse'));
    expect(events.some((e) => e.data.includes('usageMetadata'))).toBe(false);
  });
});
