import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseCache, wrapOpenAI } from '../../src/index.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type LibSetup, prompt, wrappedClients } from './helpers.js';

let mock: MockUpstream;
let lib: LibSetup;

beforeAll(async () => {
  mock = await startMockUpstream();
  lib = wrappedClients(mock);
});
afterAll(async () => {
  await mock.close();
});

const chat = (content: string) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user' as const, content }],
  stream: true as const,
});

async function readAll(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('only complete answers are stored', () => {
  it('a stream that ends in an error event is not stored: the next call reaches upstream', async () => {
    const body = chat(prompt('error event'));
    const before = mock.stats.requests;
    const failing = await lib.openai.chat.completions.create(body, {
      headers: { 'x-mock-error-event': '1' },
    });
    await expect(readAll(failing)).rejects.toThrow();
    const text = await readAll(await lib.openai.chat.completions.create(body));
    expect(text.length).toBeGreaterThan(0);
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('a truncated stream (no terminal event) is not stored', async () => {
    const body = chat(prompt('truncated'));
    const before = mock.stats.requests;
    await readAll(await lib.openai.chat.completions.create(body, { headers: { 'x-mock-truncate': '3' } }));
    await readAll(await lib.openai.chat.completions.create(body));
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('a consumer that breaks off early aborts upstream and stores nothing', async () => {
    const body = chat(prompt('break'));
    const before = mock.stats.requests;
    const abortedBefore = mock.stats.abortedStreams;
    const stream = await lib.openai.chat.completions.create(body, { headers: { 'x-mock-delay-ms': '5' } });
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 3) break;
    }
    await expect.poll(() => mock.stats.abortedStreams).toBe(abortedBefore + 1);
    const text = await readAll(await lib.openai.chat.completions.create(body));
    expect(text.length).toBeGreaterThan(0);
    expect(mock.stats.requests).toBe(before + 2);
    // ...and that complete answer is now a hit.
    await readAll(await lib.openai.chat.completions.create(body));
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('an error status is passed to the SDK as is and not stored', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: prompt('500') }] };
    const before = mock.stats.requests;
    await expect(
      lib.openai.chat.completions.create(body, { headers: { 'x-mock-status': '500' } }),
    ).rejects.toMatchObject({ status: 500 });
    await lib.openai.chat.completions.create(body);
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('an unreachable upstream surfaces as the SDK connection error', async () => {
    const cache = new ResponseCache();
    const client = wrapOpenAI(new OpenAI({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', maxRetries: 0 }), {
      cache,
    });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

describe('coalescing', () => {
  it('N identical concurrent streams make one upstream call and all get the same text', async () => {
    const body = chat(prompt('concurrent'));
    const before = mock.stats.requests;
    const texts = await Promise.all(
      Array.from({ length: 8 }, async () =>
        readAll(await lib.openai.chat.completions.create(body, { headers: { 'x-mock-delay-ms': '2' } })),
      ),
    );
    expect(mock.stats.requests).toBe(before + 1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]?.length).toBeGreaterThan(0);
    expect(lib.cache.stats().coalesced).toBeGreaterThanOrEqual(7);
  });

  it('a non-stream call joining a stream (with usage) in flight gets the assembled answer', async () => {
    const content = prompt('mixed');
    const withUsage = { ...chat(content), stream_options: { include_usage: true } };
    const before = mock.stats.requests;
    const [streamed, json] = await Promise.all([
      (async () =>
        readAll(
          await lib.openai.chat.completions.create(withUsage, { headers: { 'x-mock-delay-ms': '3' } }),
        ))(),
      lib.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
    ]);
    expect(mock.stats.requests).toBe(before + 1);
    expect(json.choices[0]?.message.content).toBe(streamed);
    expect(json.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('a non-stream call cannot be answered from a stream without usage: it makes its own call', async () => {
    const content = prompt('mixed no usage');
    const before = mock.stats.requests;
    await Promise.all([
      (async () =>
        readAll(
          await lib.openai.chat.completions.create(chat(content), { headers: { 'x-mock-delay-ms': '3' } }),
        ))(),
      lib.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
    ]);
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('when the first caller leaves, the others still get the whole answer', async () => {
    const body = chat(prompt('leader leaves'));
    const before = mock.stats.requests;
    const headers = { 'x-mock-delay-ms': '3' };
    const leader = await lib.openai.chat.completions.create(body, { headers });
    const follower = lib.openai.chat.completions.create(body, { headers });
    let n = 0;
    for await (const _ of leader) if (++n === 2) break;
    const text = await readAll(await follower);
    expect(text.split(' ').length).toBeGreaterThan(5);
    expect(mock.stats.requests).toBe(before + 1);
    await readAll(await lib.openai.chat.completions.create(body));
    expect(mock.stats.requests).toBe(before + 1);
  });
});

describe('TTL', () => {
  it('an entry expires after its ttl (x-sluice-ttl)', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: prompt('ttl') }] };
    const before = mock.stats.requests;
    await lib.openai.chat.completions.create(body, { headers: { 'x-sluice-ttl': '1' } });
    await lib.openai.chat.completions.create(body);
    expect(mock.stats.requests).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await lib.openai.chat.completions.create(body);
    expect(mock.stats.requests).toBe(before + 2);
  });
});
