import { describe, expect, it } from 'vitest';
import { openaiEmbeddingsProtocol as embeddings } from '../../src/protocols/openai-embeddings.js';
import { dataStream, parseSse, validRequest } from './helpers.js';

const MODEL = 'text-embedding-3-small';
const ANSWER = {
  object: 'list',
  data: [
    { object: 'embedding', index: 0, embedding: [0.0023, -0.0093, 0.0157] },
    { object: 'embedding', index: 1, embedding: 'AAAAAAAA8D8=' },
  ],
  model: MODEL,
  usage: { prompt_tokens: 8, total_tokens: 8 },
};

describe('openai.embeddings validate', () => {
  it.each([
    ['a string', 'hello'],
    ['strings', ['a', 'b']],
    ['tokens', [1, 2]],
    ['token arrays', [[1], [2, 3]]],
  ])('accepts input of %s', (_name, input) => {
    expect(embeddings.validate({ model: MODEL, input, stream: false })).toEqual({
      ok: true,
      request: {
        body: { model: MODEL, input, stream: false },
        model: MODEL,
        stream: false,
        wantsStreamUsage: false,
      },
    });
  });

  it.each([
    ['input missing', 'input', { model: MODEL }],
    ['input empty', 'input', { model: MODEL, input: '' }],
    ['input an empty array', 'input', { model: MODEL, input: [] }],
    ['input of mixed types', 'input', { model: MODEL, input: ['a', 1] }],
    ['input an object', 'input', { model: MODEL, input: { text: 'a' } }],
    ['model missing', 'model', { input: 'a' }],
    ['stream: true', 'stream', { model: MODEL, input: 'a', stream: true }],
    ['stream not boolean', 'stream', { model: MODEL, input: 'a', stream: 'no' }],
  ])('rejects %s with 400 naming `%s`', (_name, param, body) => {
    const check = embeddings.validate(body);
    expect(check).toMatchObject({ ok: false, status: 400, param });
    expect(check.ok ? '' : check.message).toContain(param);
  });

  it('says why a stream request is refused', () => {
    expect(embeddings.validate({ model: MODEL, input: 'a', stream: true })).toMatchObject({
      message: expect.stringContaining('embeddings do not stream'),
    });
  });
});

describe('openai.embeddings keyMaterial', () => {
  it('keeps dimensions and encoding_format, drops user', () => {
    const body = { model: MODEL, input: ['a'], dimensions: 256, encoding_format: 'base64' };
    expect(embeddings.keyMaterial(validRequest(embeddings, { ...body, user: 'u-1' }))).toEqual(body);
  });
});

describe('openai.embeddings inspectJson', () => {
  it('accepts a list of embeddings and reports model and input tokens', () => {
    expect(embeddings.inspectJson(ANSWER)).toEqual({
      ok: true,
      model: MODEL,
      usage: { inputTokens: 8, outputTokens: 0 },
    });
  });

  it.each([
    [
      'an error body',
      { error: { message: 'Invalid input', type: 'invalid_request_error', param: 'input', code: null } },
    ],
    ['another object', { ...ANSWER, object: 'chat.completion' }],
    ['empty data', { ...ANSWER, data: [] }],
    ['a non-embedding item', { ...ANSWER, data: [{ object: 'embedding', index: 0, embedding: null }] }],
    ['not an object', 'list'],
  ])('rejects %s', (_name, body) => {
    expect(embeddings.inspectJson(body)).toMatchObject({ ok: false });
  });
});

describe('openai.embeddings stream operations', () => {
  it('never calls a stream complete, and refuses to assemble or synthesize with a typed error', () => {
    const events = parseSse(dataStream([ANSWER]));
    expect(embeddings.inspectStream(events)).toEqual({ complete: false, reason: 'embeddings do not stream' });
    const code = expect.objectContaining({ code: 'PROTOCOL_NOT_STREAMABLE' });
    expect(() => embeddings.assemble(events)).toThrow(code);
    const request = validRequest(embeddings, { model: MODEL, input: 'a' });
    expect(() => embeddings.synthesize(ANSWER, request)).toThrow(code);
  });
});
