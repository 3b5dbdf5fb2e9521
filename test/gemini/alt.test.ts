import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, startHarness } from '../gateway/harness.js';
import { contents, geminiPath, settle } from './helpers.js';

/**
 * Gemini's `alt` query parameter: `sse` (server-sent events) and `json` (or none) only pick the
 * framing, so they key alike. Any other value (`proto`: a binary answer; `media`; several `alt`)
 * asks for a format Sluice does not read: such a request bypasses the cache (forwarded as sent,
 * answered as the upstream answers, never stored) instead of being answered from, or stored as,
 * a JSON entry.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-tenant-a' },
    body: JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), type: res.headers.get('content-type'), bytes };
}

describe('alt=sse and alt=json are framing only', () => {
  test('no alt, alt=json and a stream with alt=sse share one entry', async () => {
    const body = contents('alt understood');
    expect((await post(geminiPath('generateContent'), body)).cache).toBe('MISS');
    await settle();
    const requests = h.mock.stats.requests;
    expect((await post(geminiPath('generateContent', undefined, '?alt=json'), body)).cache).toBe('HIT');
    expect((await post(geminiPath('streamGenerateContent', undefined, '?alt=sse'), body)).cache).toBe('HIT');
    expect(h.mock.stats.requests).toBe(requests);
  });
});

describe('any other alt bypasses the cache', () => {
  test('alt=proto is never answered from a JSON entry, is forwarded as sent, and is never stored', async () => {
    const body = contents('alt proto');
    const json = await post(geminiPath('generateContent'), body);
    expect(json.cache).toBe('MISS');
    await settle();
    for (const operation of ['generateContent', 'streamGenerateContent']) {
      for (let i = 0; i < 2; i++) {
        const before = h.mock.stats.requests;
        const proto = await post(geminiPath(operation, undefined, '?alt=proto'), body);
        expect(proto.status).toBe(200);
        expect(proto.cache).toBe('BYPASS');
        expect(proto.type).toBe('application/x-protobuf');
        // The upstream's binary answer, byte for byte (tag, length, then the mock's payload).
        expect(proto.bytes[0]).toBe(0x0a);
        expect(proto.bytes.toString('latin1')).toContain('proto:{');
        expect(h.mock.stats.requests).toBe(before + 1);
        expect(h.mock.stats.lastRequest?.url).toContain('alt=proto');
        await settle();
      }
    }
    // The JSON entry is still there, untouched by the binary answers.
    const again = await post(geminiPath('generateContent'), body);
    expect(again.cache).toBe('HIT');
    expect(again.bytes.equals(json.bytes)).toBe(true);
  });

  test.each(['?alt=media', '?alt=SSE', '?alt=', '?alt=sse&alt=proto', '?alt=json&alt=json'])(
    '%s is not understood: bypassed, the upstream answers',
    async (search) => {
      const body = contents(`alt ${search}`);
      expect((await post(geminiPath('generateContent'), body)).cache).toBe('MISS');
      await settle();
      const before = h.mock.stats.requests;
      const res = await post(geminiPath('streamGenerateContent', undefined, search), body);
      expect(res.cache).toBe('BYPASS');
      expect(h.mock.stats.requests).toBe(before + 1);
    },
  );

  test('the JSON-only operations too: countTokens with alt=proto is bypassed, with alt=json it is cached', async () => {
    const body = contents('count alt');
    expect((await post(geminiPath('countTokens'), body)).cache).toBe('MISS');
    await settle();
    expect((await post(geminiPath('countTokens', undefined, '?alt=json'), body)).cache).toBe('HIT');
    const proto = await post(geminiPath('countTokens', undefined, '?alt=proto'), body);
    expect(proto.cache).toBe('BYPASS');
    expect(proto.type).toBe('application/x-protobuf');
  });
});
