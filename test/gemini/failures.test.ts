import type { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, startHarness } from '../gateway/harness.js';
import { contents, generateStream, genai, geminiPath, MODEL, rawPost, settle } from './helpers.js';

/**
 * Gemini's completeness rule, end to end: every failure mode the mock can play is forwarded to
 * the client as it came and never stored (the same request goes upstream again), while the
 * clean variants next to them are stored. One test per failure mode.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const SSE = geminiPath('streamGenerateContent', MODEL, '?alt=sse');
const ARRAY = geminiPath('streamGenerateContent');
const JSON_ROUTE = geminiPath('generateContent');

/** Send the same request twice: both must reach the upstream (the first was not stored). */
async function expectNotStored(path: string, body: unknown, knobs: Record<string, string>) {
  const first = await rawPost(h, path, body, knobs);
  await settle();
  const calls = h.mock.stats.requests;
  const second = await rawPost(h, path, body, knobs);
  expect(second.cache).not.toBe('HIT');
  expect(h.mock.stats.requests).toBe(calls + 1);
  return first;
}

async function expectStored(path: string, body: unknown, knobs: Record<string, string> = {}) {
  const first = await rawPost(h, path, body, knobs);
  expect(first.status).toBe(200);
  await settle();
  const second = await rawPost(h, path, body, knobs);
  expect(second.cache).toBe('HIT');
  expect(second.text).toBe(first.text);
  return first;
}

describe('finish reasons that are never stored', () => {
  test.each(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'MALFORMED_FUNCTION_CALL', 'SPII', 'OTHER'])(
    '%s: streamed (alt=sse) and as JSON',
    async (reason) => {
      const knobs = { 'x-mock-gemini-finish': reason };
      const streamed = await expectNotStored(SSE, contents(`finish ${reason}`), knobs);
      expect(streamed.status).toBe(200);
      expect(streamed.text).toContain(`"finishReason":"${reason}"`);
      await expectNotStored(JSON_ROUTE, contents(`finish ${reason} json`), knobs);
      await expectNotStored(ARRAY, contents(`finish ${reason} array`), knobs);
    },
  );

  test('MAX_TOKENS without a maxOutputTokens in the request', async () => {
    await expectNotStored(SSE, contents('cut by the model'), { 'x-mock-gemini-finish': 'MAX_TOKENS' });
  });

  test('MAX_TOKENS the request asked for with generationConfig.maxOutputTokens is stored', async () => {
    const first = await expectStored(SSE, { ...contents('cut by me'), generationConfig: { maxOutputTokens: 4 } });
    expect(first.text).toContain('"finishReason":"MAX_TOKENS"');
  });

  test('the SDK sees a safety stop as it came, and the next call goes upstream again', async () => {
    const ai: GoogleGenAI = genai(h.url, { headers: { 'x-mock-gemini-finish': 'SAFETY' } });
    const first = await generateStream(ai, { model: MODEL, contents: 'sdk safety' });
    expect(first.finishReason).toBe('SAFETY');
    await settle();
    const second = await generateStream(ai, { model: MODEL, contents: 'sdk safety' });
    expect(second.cache).toBe('MISS');
  });
});

describe('answers that are not whole', () => {
  test('a blocked prompt (promptFeedback.blockReason), streamed and as JSON', async () => {
    const knobs = { 'x-mock-gemini-block': 'SAFETY' };
    const streamed = await expectNotStored(SSE, contents('blocked prompt'), knobs);
    expect(streamed.text).toContain('"blockReason":"SAFETY"');
    await expectNotStored(JSON_ROUTE, contents('blocked prompt json'), knobs);
  });

  test('a truncated stream (clean end, no finishReason)', async () => {
    const first = await expectNotStored(SSE, contents('truncated'), { 'x-mock-truncate': '5' });
    expect(first.status).toBe(200);
    expect(first.text).not.toContain('finishReason');
  });

  test('an error object mid-stream', async () => {
    const first = await expectNotStored(SSE, contents('error mid-stream'), { 'x-mock-error-event': '1' });
    expect(first.text).toContain('"error"');
  });

  test('a connection reset mid-stream', async () => {
    await expectNotStored(SSE, contents('reset mid-stream'), { 'x-mock-reset': '4' });
  });

  test('a truncated JSON array, and an array with an error element', async () => {
    await expectNotStored(ARRAY, contents('array truncated'), { 'x-mock-truncate': '3' });
    const errored = await expectNotStored(ARRAY, contents('array error'), { 'x-mock-error-event': '1' });
    expect(errored.text).toContain('"error"');
  });

  test('several candidates: one never finishes though the stream ends cleanly after the other\'s finish', async () => {
    const body = { ...contents('two candidates, one unfinished'), generationConfig: { candidateCount: 2 } };
    const knobs = { 'x-mock-gemini-unfinished': '1' };
    const first = await expectNotStored(SSE, body, knobs);
    // Candidate 1 finished first in the mock's order: here it stopped without a reason, and the
    // last event holds candidate 0's STOP alone.
    const last = first.text.trim().split(/\r\n\r\n/).pop() ?? '';
    expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ candidates: [{ index: 0, finishReason: 'STOP' }] });
    expect(first.text).toContain('"index":1');
    await expectNotStored(ARRAY, body, knobs);
    await expectNotStored(JSON_ROUTE, body, knobs);
  });

  test('an upstream error status', async () => {
    const first = await expectNotStored(SSE, contents('overloaded'), { 'x-mock-status': '503' });
    expect(first.status).toBe(503);
    expect(JSON.parse(first.text)).toMatchObject({ error: { code: 503 } });
  });
});

describe('several candidates', () => {
  test('every candidate finished: stored; the SDK reads both candidates back from a hit, streamed and as JSON', async () => {
    const body = { ...contents('two candidates'), generationConfig: { candidateCount: 2 } };
    const streamed = await expectStored(SSE, body);
    expect(streamed.text).toContain('"index":1,"finishReason":"STOP"');
    const ai = genai(h.url);
    const json = await ai.models.generateContent({ model: MODEL, contents: 'two candidates', config: { candidateCount: 2 } });
    expect(json.sdkHttpResponse?.headers?.['x-sluice-cache']).toBe('HIT');
    const texts = (json.candidates ?? []).map((c) => c.content?.parts?.map((p) => p.text).join(''));
    expect(texts).toHaveLength(2);
    expect(texts[0]).not.toBe(texts[1]);
    expect((json.candidates ?? []).map((c) => c.finishReason)).toEqual(['STOP', 'STOP']);
    // The direct answer of the mock, joined the same way, is what the hit assembled.
    const direct = await genai(h.mock.geminiBaseURL).models.generateContent({
      model: MODEL,
      contents: 'two candidates',
      config: { candidateCount: 2 },
    });
    expect(texts).toEqual((direct.candidates ?? []).map((c) => c.content?.parts?.map((p) => p.text).join('')));
  });
});

describe('framing', () => {
  test('CRLF (what Google sends), in small network pieces, is stored and replayed byte for byte', async () => {
    const crlf = await expectStored(SSE, contents('crlf'), { 'x-mock-split': '7' });
    expect(crlf.text).toContain('\r\n\r\n');
  });

  test('lone CR delimiters pass through intact; a stream whose last frame ends in a CR at end of body is not stored', async () => {
    // The SSE framing does not trust a frame ended by a body-final lone CR (it may be a cut
    // CRLF: src/sse/decoder.ts), for every protocol: the last response, the only proof, is unseen.
    const cr = await expectNotStored(SSE, contents('lone cr'), { 'x-mock-cr': '1', 'x-mock-split': '5' });
    expect(cr.status).toBe(200);
    expect(cr.text).toContain('}\r\r');
    expect(cr.text).not.toContain('\n');
    expect(cr.text).toContain('"finishReason":"STOP"');
  });

  test('without alt=sse: a miss reaches the client element by element, not buffered to the end', async () => {
    const started = Date.now();
    const res = await fetch(`${h.url}${ARRAY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-tenant-a', 'x-mock-delay-ms': '60', 'x-mock-words': '10' },
      body: JSON.stringify(contents('array, paced')),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const firstPiece = await reader.read();
    const firstAt = Date.now() - started;
    let text = new TextDecoder().decode(firstPiece.value);
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += new TextDecoder().decode(next.value);
    const endAt = Date.now() - started;
    expect(text.startsWith('[')).toBe(true);
    expect(firstPiece.value?.[0]).toBe('['.charCodeAt(0));
    // Nine 60 ms pauses separate the first element from the last.
    expect(endAt - firstAt).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(text)).toHaveLength(10);
  });

  test('without alt=sse: the streamed JSON array is stored as its own framing, replayed byte for byte', async () => {
    const first = await expectStored(ARRAY, contents('array form'));
    const parsed = JSON.parse(first.text) as unknown[];
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed.length).toBeGreaterThan(3);
    // The array entry is keyed apart: an SSE request for the same prompt is a miss of its own.
    const sse = await rawPost(h, SSE, contents('array form'));
    expect(sse.cache).toBe('MISS');
    expect(sse.text.startsWith('data: ')).toBe(true);
  });
});
