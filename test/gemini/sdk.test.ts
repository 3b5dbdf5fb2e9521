import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { ApiError, type FunctionDeclaration, Type } from '@google/genai';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, startHarness } from '../gateway/harness.js';
import { contents, generate, generateStream, genai, geminiPath, MODEL, rawPost, settle } from './helpers.js';

/**
 * The official @google/genai SDK and @ai-sdk/google against the gateway in front of the mock's
 * Gemini API: MISS then HIT, streamed and not, with the same parsed output, and no second
 * upstream call. x-mock-unique makes every upstream answer differ, so an equal second answer can
 * only be a replay.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const unique = { 'x-mock-unique': '1' };

describe('@google/genai', () => {
  test('generateContent: MISS then HIT with the same text, finish reason, usage and model version', async () => {
    const ai = genai(h.url, { headers: unique });
    const params = { model: MODEL, contents: 'json then json' };
    const first = await generate(ai, params);
    expect(first.cache).toBe('MISS');
    expect(first.text.length).toBeGreaterThan(0);
    expect(first.finishReason).toBe('STOP');
    await settle();
    const calls = h.mock.stats.requests;
    const second = await generate(ai, params);
    expect(second.cache).toBe('HIT');
    expect({ ...second, cache: 'x' }).toEqual({ ...first, cache: 'x' });
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('generateContentStream (alt=sse): MISS then HIT, same text, chunks, finish reason and usage', async () => {
    const ai = genai(h.url, { headers: unique });
    const params = { model: MODEL, contents: 'stream then stream' };
    const first = await generateStream(ai, params);
    expect(first.cache).toBe('MISS');
    expect(first.chunks).toBeGreaterThan(3);
    expect(first.finishReason).toBe('STOP');
    expect(first.usage).toMatchObject({ candidatesTokenCount: 20 });
    await settle();
    const calls = h.mock.stats.requests;
    const second = await generateStream(ai, params);
    expect(second.cache).toBe('HIT');
    expect({ ...second, cache: 'x' }).toEqual({ ...first, cache: 'x' });
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('a stream entry answers generateContent, and a JSON entry answers a stream, with the recorded usage', async () => {
    const ai = genai(h.url, { headers: unique });
    const streamed = await generateStream(ai, { model: MODEL, contents: 'stream first' });
    await settle();
    const calls = h.mock.stats.requests;
    const asJson = await generate(ai, { model: MODEL, contents: 'stream first' });
    expect(asJson.cache).toBe('HIT');
    expect(asJson.text).toBe(streamed.text);
    expect(asJson.finishReason).toBe('STOP');
    expect(asJson.usage).toEqual(streamed.usage);

    const json = await generate(ai, { model: MODEL, contents: 'json first' });
    await settle();
    const asStream = await generateStream(ai, { model: MODEL, contents: 'json first' });
    expect(asStream.cache).toBe('HIT');
    expect(asStream.chunks).toBeGreaterThan(1);
    expect(asStream.text).toBe(json.text);
    expect(asStream.finishReason).toBe('STOP');
    expect(asStream.usage).toEqual(json.usage);
    expect(h.mock.stats.requests).toBe(calls + 1);
  });

  test('a function call, streamed: MISS then HIT with the same call', async () => {
    const lookup: FunctionDeclaration = {
      name: 'get_weather',
      parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
    };
    const ai = genai(h.url, { headers: { ...unique, 'x-mock-tool-call': '1' } });
    const params = { model: MODEL, contents: 'weather in Zürich?', config: { tools: [{ functionDeclarations: [lookup] }] } };
    const first = await generateStream(ai, params);
    expect(first.cache).toBe('MISS');
    expect(first.functionCalls).toHaveLength(1);
    expect(first.functionCalls[0]).toMatchObject({ name: 'get_weather' });
    await settle();
    const second = await generateStream(ai, params);
    expect(second.cache).toBe('HIT');
    expect(second.functionCalls).toEqual(first.functionCalls);
    const asJson = await generate(ai, params);
    expect(asJson.cache).toBe('HIT');
    expect(asJson.functionCalls).toEqual(first.functionCalls);
    expect(asJson.text).toBe(first.text);
  });

  test('MAX_TOKENS caused by the request\'s own maxOutputTokens is stored', async () => {
    const ai = genai(h.url, { headers: unique });
    const params = { model: MODEL, contents: 'short please', config: { maxOutputTokens: 5 } };
    const first = await generateStream(ai, params);
    expect(first.finishReason).toBe('MAX_TOKENS');
    await settle();
    const second = await generateStream(ai, params);
    expect(second.cache).toBe('HIT');
    expect(second.text).toBe(first.text);
  });

  test('tuned models and versioned ids are forwarded as written, and keyed apart', async () => {
    const ai = genai(h.url);
    await generate(ai, { model: 'tunedModels/my-model-42', contents: 'tuned' });
    expect(h.mock.stats.lastRequest?.path).toBe('/v1beta/tunedModels/my-model-42:generateContent');
    await generate(ai, { model: 'gemini-2.0-flash-001', contents: 'tuned' });
    expect(h.mock.stats.lastRequest?.path).toBe('/v1beta/models/gemini-2.0-flash-001:generateContent');
    expect((await generate(ai, { model: 'gemini-2.0-flash-001', contents: 'tuned' })).cache).toBe('HIT');
    expect((await generate(ai, { model: 'gemini-2.0-flash', contents: 'tuned' })).cache).toBe('MISS');
  });

  test('embedContent (batchEmbedContents) and countTokens: MISS then HIT, same values', async () => {
    const ai = genai(h.url, { headers: unique });
    const first = await ai.models.embedContent({ model: 'text-embedding-004', contents: ['café', 'river'] });
    expect(first.sdkHttpResponse?.headers?.['x-sluice-cache']).toBe('MISS');
    await settle();
    const second = await ai.models.embedContent({ model: 'text-embedding-004', contents: ['café', 'river'] });
    expect(second.sdkHttpResponse?.headers?.['x-sluice-cache']).toBe('HIT');
    expect(second.embeddings).toEqual(first.embeddings);
    expect(first.embeddings).toHaveLength(2);

    const count = await ai.models.countTokens({ model: MODEL, contents: 'count me' });
    await settle();
    const again = await ai.models.countTokens({ model: MODEL, contents: 'count me' });
    expect(again.sdkHttpResponse?.headers?.['x-sluice-cache']).toBe('HIT');
    expect(again.totalTokens).toBe(count.totalTokens);
  });

  test('a bad request gets Gemini\'s error shape, which the SDK raises as an ApiError', async () => {
    const res = await rawPost(h, geminiPath('generateContent'), { contents: 'not an array' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({
      error: { code: 400, message: expect.stringContaining('contents') as unknown, status: 'INVALID_ARGUMENT' },
    });
    const notJson = await fetch(`${h.url}${geminiPath('generateContent')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-tenant-a' },
      body: '{"contents": [',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const textBody = await fetch(`${h.url}${geminiPath('generateContent')}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-goog-api-key': 'AIza-test-tenant-a' },
      body: 'hello',
    });
    expect(textBody.status).toBe(415);
    expect(await textBody.json()).toMatchObject({ error: { code: 415, status: 'INVALID_ARGUMENT' } });
    const get = await fetch(`${h.url}${geminiPath('generateContent')}`, { headers: { 'x-goog-api-key': 'k' } });
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ error: { code: 405 } });
    const cut = await genai(h.url, { headers: { 'x-mock-status': '429' } })
      .models.generateContent({ model: MODEL, contents: 'limited' })
      .catch((err: unknown) => err);
    expect(cut).toBeInstanceOf(ApiError);
    expect((cut as ApiError).status).toBe(429);
  });

  test('tenants are isolated by their key, from the header or from ?key=', async () => {
    const a = genai(h.url, { apiKey: 'AIza-tenant-one', headers: unique });
    const b = genai(h.url, { apiKey: 'AIza-tenant-two', headers: unique });
    const first = await generate(a, { model: MODEL, contents: 'whose answer' });
    await settle();
    const other = await generate(b, { model: MODEL, contents: 'whose answer' });
    expect(other.cache).toBe('MISS');
    expect(other.text).not.toBe(first.text);
    // A key in the query string scopes the same way, hashed: never in the entry key in clear.
    const viaQuery = (key: string) =>
      fetch(`${h.url}${geminiPath('generateContent', MODEL, `?key=${key}`)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...unique },
        body: JSON.stringify(contents('whose answer, by query')),
      });
    const one = await viaQuery('AIza-tenant-one');
    expect(one.headers.get('x-sluice-cache')).toBe('MISS');
    const oneText = await one.text();
    await settle();
    const again = await viaQuery('AIza-tenant-one');
    expect(again.headers.get('x-sluice-cache')).toBe('HIT');
    expect(await again.text()).toBe(oneText);
    const two = await viaQuery('AIza-tenant-two');
    expect(two.headers.get('x-sluice-cache')).toBe('MISS');
    expect(await two.text()).not.toBe(oneText);
    expect(one.headers.get('x-sluice-key')).not.toContain('AIza');
  });
});

describe('@ai-sdk/google', () => {
  const provider = (headers: Record<string, string> = {}) =>
    createGoogleGenerativeAI({ baseURL: `${h.url}/v1beta`, apiKey: 'AIza-test-tenant-a', headers: { ...unique, ...headers } });

  test('generateText: MISS then HIT with the same text and usage', async () => {
    const model = provider()(MODEL);
    const first = await generateText({ model, prompt: 'ai sdk json', maxRetries: 0 });
    expect(first.response.headers?.['x-sluice-cache']).toBe('MISS');
    await settle();
    const second = await generateText({ model, prompt: 'ai sdk json', maxRetries: 0 });
    expect(second.response.headers?.['x-sluice-cache']).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(second.finishReason).toBe('stop');
    expect(second.usage.outputTokens).toBe(first.usage.outputTokens);
  });

  test('streamText: MISS then HIT with the same text, finish reason and usage', async () => {
    const model = provider()(MODEL);
    const run = async () => {
      const result = streamText({ model, prompt: 'ai sdk stream', maxRetries: 0 });
      let text = '';
      for await (const piece of result.textStream) text += piece;
      return {
        text,
        finishReason: await result.finishReason,
        usage: (await result.usage).outputTokens,
        cache: (await result.response).headers?.['x-sluice-cache'],
      };
    };
    const first = await run();
    expect(first.cache).toBe('MISS');
    expect(first.text.length).toBeGreaterThan(0);
    await settle();
    const second = await run();
    expect(second).toEqual({ ...first, cache: 'HIT' });
  });
});
