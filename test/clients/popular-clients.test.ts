import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Harness, sleep, startHarness } from '../gateway/harness.js';

// The base URLs the README's "Clients" section gives, each checked against the mock through the
// gateway: the second identical call must come from the cache (no new upstream request).
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

let counter = 0;
const unique = (label: string) => `${label} ${++counter} ${process.pid}`;

/** Run a call twice; the answers match and only the first reached the upstream. */
async function twiceFromCache<T>(call: () => Promise<T>): Promise<[T, T]> {
  const before = h.mock.stats.requests;
  const first = await call();
  expect(h.mock.stats.requests).toBe(before + 1);
  await sleep(30);
  const second = await call();
  expect(h.mock.stats.requests).toBe(before + 1);
  return [first, second];
}

describe('Vercel AI SDK', () => {
  test("createOpenAI({ baseURL: '<sluice>/v1' }): chat model, text and stream", async () => {
    const openai = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'sk-test-tenant-a' });
    const prompt = unique('ai sdk chat');
    const [a, b] = await twiceFromCache(() =>
      generateText({ model: openai.chat('gpt-4o-mini'), prompt, maxRetries: 0 }),
    );
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    expect(b.usage.outputTokens).toBe(a.usage.outputTokens);

    const streamed = unique('ai sdk chat stream');
    const [x, y] = await twiceFromCache(async () => {
      const result = streamText({ model: openai.chat('gpt-4o-mini'), prompt: streamed, maxRetries: 0 });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      return { text, usage: await result.usage };
    });
    expect(y).toEqual(x);
    expect(x.usage.outputTokens).toBeGreaterThan(0);
  });

  test('createOpenAI: Responses model (the default of openai(model)), text and stream', async () => {
    const openai = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'sk-test-tenant-a' });
    const prompt = unique('ai sdk responses');
    const [a, b] = await twiceFromCache(() => generateText({ model: openai('gpt-4o-mini'), prompt, maxRetries: 0 }));
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    const streamed = unique('ai sdk responses stream');
    const [x, y] = await twiceFromCache(async () => {
      const result = streamText({ model: openai.responses('gpt-4o-mini'), prompt: streamed, maxRetries: 0 });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      return text;
    });
    expect(x.length).toBeGreaterThan(0);
    expect(y).toBe(x);
  });

  test("createAnthropic({ baseURL: '<sluice>/v1' }) works; without /v1 it cannot", async () => {
    const anthropic = createAnthropic({ baseURL: `${h.url}/v1`, apiKey: 'sk-ant-test-a' });
    const prompt = unique('ai sdk anthropic');
    const [a, b] = await twiceFromCache(() =>
      generateText({ model: anthropic('claude-sonnet-4-6'), prompt, maxRetries: 0 }),
    );
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    const streamed = unique('ai sdk anthropic stream');
    const [x, y] = await twiceFromCache(async () => {
      const result = streamText({ model: anthropic('claude-sonnet-4-6'), prompt: streamed, maxRetries: 0 });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      return text;
    });
    expect(y).toBe(x);

    // The AI SDK appends /messages to its baseURL, unlike the Anthropic SDK (/v1/messages).
    const withoutV1 = createAnthropic({ baseURL: h.url, apiKey: 'sk-ant-test-a' });
    const failure = await generateText({ model: withoutV1('claude-sonnet-4-6'), prompt: 'x', maxRetries: 0 }).then(
      () => undefined,
      (err: unknown) => err as { statusCode?: number; responseBody?: string },
    );
    expect(failure?.statusCode).toBe(404);
    expect(failure?.responseBody).toContain('no route POST /messages');
  });
});

describe('LangChain JS', () => {
  test("ChatOpenAI({ configuration: { baseURL: '<sluice>/v1' } }): invoke and stream", async () => {
    const llm = new ChatOpenAI({
      model: 'gpt-4o-mini',
      apiKey: 'sk-test-tenant-a',
      maxRetries: 0,
      configuration: { baseURL: `${h.url}/v1` },
    });
    const prompt = unique('langchain openai');
    const [a, b] = await twiceFromCache(() => llm.invoke(prompt));
    expect(String(a.content).length).toBeGreaterThan(0);
    expect(b.content).toBe(a.content);
    const streamed = unique('langchain openai stream');
    const [x, y] = await twiceFromCache(async () => {
      let text = '';
      for await (const chunk of await llm.stream(streamed)) text += String(chunk.content);
      return text;
    });
    expect(x.length).toBeGreaterThan(0);
    expect(y).toBe(x);
  });

  test("ChatAnthropic({ anthropicApiUrl: '<sluice>' }): invoke and stream", async () => {
    const llm = new ChatAnthropic({
      model: 'claude-sonnet-4-6',
      apiKey: 'sk-ant-test-a',
      maxRetries: 0,
      anthropicApiUrl: h.url,
    });
    const prompt = unique('langchain anthropic');
    const [a, b] = await twiceFromCache(() => llm.invoke(prompt));
    expect(String(a.content).length).toBeGreaterThan(0);
    expect(b.content).toEqual(a.content);
    const streamed = unique('langchain anthropic stream');
    const [x, y] = await twiceFromCache(async () => {
      let text = '';
      for await (const chunk of await llm.stream(streamed)) text += String(chunk.content);
      return text;
    });
    expect(y).toBe(x);
  });
});

describe('curl -N', () => {
  const run = promisify(execFile);
  test('streams through the gateway and replays from the cache', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: unique('curl') }],
    });
    const curl = () =>
      run('curl', [
        '-sS',
        '-N',
        '-D',
        '-',
        `${h.url}/v1/chat/completions`,
        '-H',
        'content-type: application/json',
        '-H',
        'authorization: Bearer sk-test-tenant-a',
        '-d',
        body,
      ]).then(({ stdout }) => {
        const [head = '', ...rest] = stdout.split('\r\n\r\n');
        return { head: head.toLowerCase(), body: rest.join('\r\n\r\n') };
      });
    const [a, b] = await twiceFromCache(curl);
    expect(a.head).toContain('x-sluice-cache: miss');
    expect(b.head).toContain('x-sluice-cache: hit');
    expect(a.body).toContain('data: [DONE]');
    expect(b.body).toBe(a.body);
  });
});
