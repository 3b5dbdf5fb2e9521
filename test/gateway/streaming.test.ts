import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

/** Count the reads a client makes: each is at least one write by the gateway. */
async function countReads(
  url: string,
  headers: Record<string, string>,
): Promise<{ reads: number; text: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(chatBody('flush test', { stream: true })),
  });
  const reader = res.body?.getReader();
  let reads = 0;
  let text = '';
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
    if (done) break;
    reads++;
    text += decoder.decode(value, { stream: true });
  }
  return { reads, text };
}

describe('flushIntervalMs', () => {
  test('0 writes what arrived right after its turn (chunks 10 ms apart go out one by one); N coalesces writes for at most N ms', async () => {
    const eager = await startHarness({ flushIntervalMs: 0, cache: { mode: 'off' } }, mock);
    const batched = await startHarness({ flushIntervalMs: 100, cache: { mode: 'off' } }, mock);
    try {
      const knobs = { 'x-mock-delay-ms': '10', 'x-mock-words': '30' };
      const a = await countReads(eager.url, knobs);
      const b = await countReads(batched.url, knobs);
      expect(b.text).toBe(a.text);
      expect(a.reads).toBeGreaterThanOrEqual(20);
      expect(b.reads).toBeLessThan(a.reads / 3);
    } finally {
      await eager.gateway.close();
      await batched.gateway.close();
    }
  });
});

describe('replays stay faithful for richer answers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, mock);
  });
  afterAll(async () => h.gateway.close());

  test('n > 1: each choice survives a stream replay and a JSON replay', async () => {
    const body = chatBody('two choices', { n: 2, stream_options: { include_usage: true } });
    const streamed = await h.openai().chat.completions.stream(body).finalChatCompletion();
    expect(streamed.choices).toHaveLength(2);
    await sleep(30);
    const calls = mock.stats.requests;
    const again = await h.openai().chat.completions.stream(body).finalChatCompletion();
    const { stream_options: _, ...jsonBody } = body;
    const json = await h.openai().chat.completions.create(jsonBody);
    expect(mock.stats.requests).toBe(calls);
    expect(again.choices.map((c) => c.message.content)).toEqual(
      streamed.choices.map((c) => c.message.content),
    );
    expect(json.choices.map((c) => c.message.content)).toEqual(
      streamed.choices.map((c) => c.message.content),
    );
  });

  test('tool calls, reasoning and logprobs survive JSON → stream and stream → JSON', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } },
    ];
    const knobs = { headers: { 'x-mock-tool-call': '1' } };
    const toolBody = chatBody('call a tool: tools cross', { tools });
    const original = await h.openai().chat.completions.create(toolBody, knobs);
    await sleep(30);
    const replayed = await h
      .openai()
      .chat.completions.stream({ ...toolBody, stream_options: { include_usage: true } })
      .finalChatCompletion();
    expect(replayed.choices[0]?.message.tool_calls).toEqual(original.choices[0]?.message.tool_calls);
    expect(replayed.choices[0]?.finish_reason).toBe('tool_calls');

    const lpBody = chatBody('logprobs cross', { logprobs: true, top_logprobs: 2 });
    const streamedLp = await h
      .openai()
      .chat.completions.stream({ ...lpBody, stream_options: { include_usage: true } })
      .finalChatCompletion();
    await sleep(30);
    const jsonLp = await h.openai().chat.completions.create(lpBody);
    expect(jsonLp.choices[0]?.logprobs?.content).toEqual(streamedLp.choices[0]?.logprobs?.content);
    expect(jsonLp.choices[0]?.logprobs?.content?.length).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  test('credentials never reach the log, whatever goes wrong', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const gateway = createGateway(
      parseConfig({
        port: 0,
        upstream: mock.openaiBaseURL,
        anthropicUpstream: mock.anthropicBaseURL,
        logLevel: 'debug',
      }),
      { logger: createLogger('debug', sink) },
    );
    const url = await gateway.listen();
    try {
      const secret = 'sk-proj-SECRET-0123456789';
      const send = (
        headers: Record<string, string>,
        body: object = chatBody('log check', { stream: true }),
      ) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${secret}`,
            'x-api-key': secret,
            ...headers,
          },
          body: JSON.stringify(body),
        }).then((r) => r.text().catch(() => ''));
      await send({ 'x-mock-error-event': '1' });
      await send({ 'x-mock-reset': '2', 'x-mock-delay-ms': '5' });
      await send({ 'x-mock-status': '401' });
      await send({});
      await sleep(50);
      const log = lines.join('');
      expect(log).toContain('answer not stored');
      expect(log).not.toContain('SECRET');
    } finally {
      await gateway.close();
    }
  });
});
