import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, sleep, startHarness } from './harness.js';

// cache.requestStreamUsage: Sluice asks the upstream for usage on streams whose client did not,
// records it, and hides it from that client. The official SDK is the judge: what it parses must
// be what a direct call without usage gives.

const ADMIN = 'admin-token-for-usage-tests';
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ adminToken: ADMIN, cache: { requestStreamUsage: true } });
});
afterAll(async () => h.close());

let n = 0;
const body = (label: string) => ({
  model: 'gpt-4o-mini',
  stream: true as const,
  messages: [{ role: 'user' as const, content: `${label} ${++n}` }],
});

async function chunks(client: OpenAI, request: ReturnType<typeof body>, extra: object = {}) {
  const { data, response } = await client.chat.completions.create({ ...request, ...extra }).withResponse();
  const out: unknown[] = [];
  for await (const chunk of data) out.push(chunk);
  return { chunks: out, cache: response.headers.get('x-sluice-cache'), key: response.headers.get('x-sluice-key') };
}

const entry = async (key: string | null) =>
  (await (await fetch(`${h.url}/admin/entries/${key}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
    usage: { inputTokens: number; outputTokens: number } | null;
  };

describe('cache.requestStreamUsage', () => {
  test('the client gets exactly the direct answer without usage; the entry records usage', async () => {
    const request = body('usage asked');
    const direct = await chunks(h.directOpenai(), request);
    const live = await chunks(h.openai(), request);
    expect(live.cache).toBe('MISS');
    // The upstream was asked for usage...
    expect((h.mock.stats.lastRequest?.body as { stream_options?: unknown }).stream_options).toEqual({
      include_usage: true,
    });
    // ...and the client saw none of it: no usage chunk, no `usage: null` on any chunk.
    expect(live.chunks).toEqual(direct.chunks);
    expect(live.chunks.some((c) => Object.hasOwn(c as object, 'usage'))).toBe(false);
    await sleep(30);
    expect((await entry(live.key)).usage).toEqual({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });

    // Replayed to the same kind of client: still as direct; to one that asks: with usage, as direct.
    const hit = await chunks(h.openai(), request);
    expect(hit.cache).toBe('HIT');
    expect(hit.chunks).toEqual(direct.chunks);
    const withUsage = { stream_options: { include_usage: true } };
    const directUsage = await chunks(h.directOpenai(), request, withUsage);
    const hitUsage = await chunks(h.openai(), request, withUsage);
    expect(hitUsage.cache).toBe('HIT');
    expect(hitUsage.chunks).toEqual(directUsage.chunks);

    // And a JSON request is answered from the stream entry, since it recorded usage.
    const { stream: _stream, ...jsonRequest } = request;
    const json = await h.openai().chat.completions.create(jsonRequest).withResponse();
    expect(json.response.headers.get('x-sluice-cache')).toBe('HIT');
    expect(json.data.usage?.completion_tokens).toBeGreaterThan(0);
  });

  test('a coalesced follower that did not ask gets the live bytes, stripped', async () => {
    const request = body('usage coalesced');
    const direct = await chunks(h.directOpenai(), request);
    const slow = h.openai({ headers: { 'x-mock-delay-ms': '15' } });
    const [leader, follower] = await Promise.all([
      chunks(slow, request),
      sleep(40).then(() => chunks(slow, request)),
    ]);
    expect(follower.cache).toBe('COALESCED');
    expect(leader.chunks).toEqual(direct.chunks);
    expect(follower.chunks).toEqual(direct.chunks);
  });

  test('legacy completions too', async () => {
    const request = { model: 'gpt-3.5-turbo-instruct', prompt: `completions usage ${++n}`, stream: true as const };
    const collect = async (client: OpenAI) => {
      const out: unknown[] = [];
      for await (const chunk of await client.completions.create(request)) out.push(chunk);
      return out;
    };
    const direct = await collect(h.directOpenai());
    expect(await collect(h.openai())).toEqual(direct);
    await sleep(30);
    expect(await collect(h.openai())).toEqual(direct);
  });

  test('off by default: the request goes upstream as the client sent it', async () => {
    const plain = await startHarness({}, h.mock);
    try {
      const request = body('usage not asked');
      await chunks(plain.openai(), request);
      expect(h.mock.stats.lastRequest?.body).toEqual(request);
    } finally {
      await plain.gateway.close();
    }
  });
});
