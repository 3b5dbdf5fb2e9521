import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { CHAT, MESSAGES, useSdkRig } from './sdk-rig.js';

/** The x-mock-* knobs, seen through the official SDKs and through raw bytes. */

const rig = useSdkRig();

describe('framing knobs', () => {
  it.each<[string, Record<string, string>]>([
    ['CRLF', { 'x-mock-crlf': '1' }],
    ['lone CR', { 'x-mock-cr': '1' }],
    ['3-byte network pieces', { 'x-mock-split': '3' }],
    [
      '1-byte pieces with keep-alive comments',
      { 'x-mock-split': '1', 'x-mock-keepalive': '1', 'x-mock-words': '8' },
    ],
  ])('%s still parses to the same answer', async (_name, headers) => {
    const plain = await rig.collectChat({ 'x-mock-words': headers['x-mock-words'] ?? '20' });
    expect(await rig.collectChat(headers)).toEqual(plain);
    const anthropicText = await rig.anthropic.messages.stream(MESSAGES, { headers }).finalText();
    const plainText = await rig.anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-words': headers['x-mock-words'] ?? '20' } })
      .finalText();
    expect(anthropicText).toBe(plainText);
  });

  it('really changes the bytes on the wire', async () => {
    const crlf = await (
      await rig.rawPost('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-crlf': '1' })
    ).text();
    expect(crlf).toContain('event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n');
    const keepalive = await (
      await rig.rawPost('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-keepalive': '1' })
    ).text();
    expect(keepalive.endsWith('data: [DONE]\n\n: keep-alive\n\n')).toBe(true);
  });

  it('writes split pieces as separate network reads', async () => {
    const response = await rig.rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-split': '7' },
    );
    const reader = response.body?.getReader();
    let reads = 0;
    let bytes = 0;
    for (let r = await reader?.read(); r && !r.done; r = await reader?.read()) {
      reads++;
      bytes += r.value.length;
    }
    expect(bytes).toBeGreaterThan(1000);
    // ~900 pieces: a loaded machine coalesces many reads, but an unsplit stream arrives in one or two.
    expect(reads).toBeGreaterThan(20);
  });
});

describe('failure knobs', () => {
  it('truncate ends cleanly after N content chunks with no terminal event', async () => {
    const raw = await (
      await rig.rawPost('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-truncate': '5' })
    ).text();
    expect(raw).not.toContain('[DONE]');
    expect(raw.match(/"content":"[^"]/g)).toHaveLength(5);
    const seen = await rig.collectChat({ 'x-mock-truncate': '5' });
    expect(seen.finish).toBeNull();
    expect(seen.usage).toBeUndefined();
    await expect(
      rig.openai.chat.completions.stream(CHAT, { headers: { 'x-mock-truncate': '5' } }).finalChatCompletion(),
    ).rejects.toThrow(/finish_reason/);
    const anthropicRaw = await (
      await rig.rawPost('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-truncate': '2' })
    ).text();
    expect(anthropicRaw.match(/"text_delta"/g)).toHaveLength(2);
    expect(anthropicRaw).not.toContain('message_delta');
    expect(anthropicRaw).not.toContain('message_stop');
    const truncated = rig.anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-truncate': '2' } })
      .finalMessage();
    await expect(truncated).rejects.toThrow(/stream ended without producing a Message/);
    expect(rig.mock.stats.completedStreams).toBe(5);
    expect(rig.mock.stats.abortedStreams).toBe(0);
  });

  it('done-in-content puts the terminal marker inside JSON and ends before the real one', async () => {
    const raw = await (
      await rig.rawPost('/v1/chat/completions', { ...CHAT, stream: true }, { 'x-mock-done-in-content': '1' })
    ).text();
    expect(raw).toContain('data: [DONE]\\n\\n');
    expect(raw).not.toMatch(/^data: \[DONE\]$/m);
    const anthropicRaw = await (
      await rig.rawPost('/v1/messages', { ...MESSAGES, stream: true }, { 'x-mock-done-in-content': '1' })
    ).text();
    expect(anthropicRaw).toContain('event: message_stop\\n');
    expect(anthropicRaw).not.toMatch(/^event: message_stop$/m);
  });

  it('error-event surfaces as an APIError mid-stream in both SDKs', async () => {
    let text = '';
    const consume = async () => {
      const stream = await rig.openai.chat.completions.create(
        { ...CHAT, stream: true },
        { headers: { 'x-mock-error-event': '1' } },
      );
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    };
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(text.split(' ')).toHaveLength(10);
    const failing = rig.anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-error-event': '1' } })
      .finalMessage();
    await expect(failing).rejects.toMatchObject({ type: 'overloaded_error' });
    const raw = await (
      await rig.rawPost(
        '/v1/responses',
        { model: 'gpt-4o-mini', input: 'Hi', stream: true },
        { 'x-mock-error-event': '1' },
      )
    ).text();
    expect(raw).toContain('event: error\n');
    expect(raw).toContain('event: response.failed\n');
    expect(raw).not.toContain('response.completed');
  });

  it('status knob answers protocol-shaped errors, or a normal body for 2xx', async () => {
    const limited = rig.openai.chat.completions.create(CHAT, { headers: { 'x-mock-status': '429' } });
    await expect(limited).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(limited).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    const overloaded = rig.anthropic.messages.create(MESSAGES, { headers: { 'x-mock-status': '529' } });
    await expect(overloaded).rejects.toBeInstanceOf(Anthropic.APIError);
    await expect(overloaded).rejects.toMatchObject({
      status: 529,
      error: { error: { type: 'overloaded_error' } },
    });
    const created = await rig.rawPost('/v1/chat/completions', CHAT, { 'x-mock-status': '201' });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { object: string }).object).toBe('chat.completion');
  });

  it('error-as-sse sends one error event with status 200', async () => {
    const response = await rig.rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-error-as-sse': '1' },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await response.text()).toMatch(/^data: \{"error":\{.*\}\}\n\n$/);
    const responses = await (
      await rig.rawPost(
        '/v1/responses',
        { model: 'gpt-4o-mini', input: 'Hi' },
        { 'x-mock-error-as-sse': '1' },
      )
    ).text();
    expect(responses).toMatch(/^event: error\ndata: \{"type":"error".*\n\n$/);
    const anthropicStream = rig.anthropic.messages
      .stream(MESSAGES, { headers: { 'x-mock-error-as-sse': '1' } })
      .finalMessage();
    await expect(anthropicStream).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it('reset destroys the socket mid-stream: the SDK sees a broken stream, not a clean end', async () => {
    const consume = async () => {
      const stream = await rig.openai.chat.completions.create(
        { ...CHAT, stream: true },
        { headers: { 'x-mock-reset': '3' } },
      );
      for await (const _ of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow();
    // JSON: the headers arrived, then the socket died 40 bytes into the body.
    await expect(
      rig.anthropic.messages.create(MESSAGES, { headers: { 'x-mock-reset': '40' } }),
    ).rejects.toThrow(/terminated/);
    expect(rig.mock.stats.completedStreams).toBe(0);
    expect(rig.mock.stats.abortedStreams).toBe(0);
  });

  it('hang sends headers and then nothing; the client leaving counts as an aborted stream', async () => {
    const controller = new AbortController();
    const response = await rig.rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-hang': '1' },
      controller.signal,
    );
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    const read = reader?.read();
    const winner = await Promise.race([
      read,
      new Promise((resolve) => setTimeout(() => resolve('idle'), 150)),
    ]);
    expect(winner).toBe('idle');
    controller.abort();
    await read?.catch(() => undefined);
    await expect.poll(() => rig.mock.stats.abortedStreams).toBe(1);
  });

  it('endless keeps streaming until the client goes away', async () => {
    const controller = new AbortController();
    const response = await rig.rawPost(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'x-mock-endless': '1' },
      controller.signal,
    );
    const reader = response.body?.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (text.split('\n\n').length < 60) {
      const r = await reader?.read();
      if (!r || r.done) throw new Error('endless stream ended');
      text += decoder.decode(r.value, { stream: true });
    }
    controller.abort();
    await expect.poll(() => rig.mock.stats.abortedStreams).toBe(1);
    expect(rig.mock.stats.chunksWritten).toBeGreaterThanOrEqual(59);
    expect(rig.mock.stats.completedStreams).toBe(0);
  });

  it('paces chunks by x-mock-delay-ms and delays the first byte', async () => {
    const started = Date.now();
    await rig.collectChat({
      'x-mock-delay-ms': '15',
      'x-mock-words': '6',
      'x-mock-first-byte-delay-ms': '40',
    });
    // Timers may fire a millisecond early against Date.now(); allow for it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(6 * 15 + 40 - 8);
  });

  it('answers a bad knob value with 400 naming the header', async () => {
    const response = await rig.rawPost('/v1/chat/completions', CHAT, { 'x-mock-words': 'lots' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'x-mock-words',
    );
  });
});

describe('counters and the standalone CLI', () => {
  it('counts requests per path, numbers responses, and resets', async () => {
    const first = await rig.rawPost('/v1/chat/completions', CHAT);
    await first.text();
    const second = await rig.rawPost('/v1/messages', MESSAGES);
    await second.text();
    expect(first.headers.get('x-mock-request-count')).toBe('1');
    expect(second.headers.get('x-mock-request-count')).toBe('2');
    expect(rig.mock.stats.byPath).toEqual({ '/v1/chat/completions': 1, '/v1/messages': 1 });
    rig.mock.resetStats();
    expect(rig.mock.stats.requests).toBe(0);
    expect(rig.mock.stats.lastRequest).toBeUndefined();
  });

  it('x-mock-unique makes every call answer differently', async () => {
    const a = await rig.openai.chat.completions.create(CHAT, { headers: { 'x-mock-unique': '1' } });
    const b = await rig.openai.chat.completions.create(CHAT, { headers: { 'x-mock-unique': '1' } });
    expect(a.choices[0]?.message.content).not.toBe(b.choices[0]?.message.content);
  });

  it('cli.ts prints its URL as one JSON line and serves', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/mock-upstream/cli.ts', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { url } = JSON.parse(line) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { object: string };
      expect(models.object).toBe('list');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
