import { createServer } from 'node:net';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, eventually, type Harness, sleep, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // undici checks idle time on a coarse (about 1 s) timer, so the idle bound fires at 1-2 s here.
    limits: {
      maxRequestBodyBytes: 4096,
      idleTimeoutMs: 300,
      maxStreamDurationMs: 2500,
      maxResponseBytes: 20_000,
    },
  });
});
afterAll(async () => h.close());

describe('bad input is refused in the protocol error shape and never reaches the upstream', () => {
  const cases: Array<[string, string, string | object, Record<string, string>, number, string | undefined]> =
    [
      ['not JSON', '/v1/chat/completions', '{"model": ', {}, 400, undefined],
      [
        'wrong content type',
        '/v1/chat/completions',
        'model=x',
        { 'content-type': 'application/x-www-form-urlencoded' },
        415,
        undefined,
      ],
      [
        'missing model',
        '/v1/chat/completions',
        { messages: [{ role: 'user', content: 'x' }] },
        {},
        400,
        'model',
      ],
      ['missing messages', '/v1/chat/completions', { model: 'gpt-4o-mini' }, {}, 400, 'messages'],
      ['missing input', '/v1/responses', { model: 'gpt-4o-mini' }, {}, 400, 'input'],
      ['oversized body', '/v1/chat/completions', chatBody('x'.repeat(5000)), {}, 413, undefined],
      [
        'bad cache header',
        '/v1/chat/completions',
        chatBody('x'),
        { 'x-sluice-ttl': 'soon' },
        400,
        'x-sluice-ttl',
      ],
    ];
  for (const [name, path, body, headers, status, param] of cases) {
    test(`${name} → ${status}`, async () => {
      const before = h.mock.stats.requests;
      const res = await h.post(path, body, headers);
      expect(res.status).toBe(status);
      const json = (await res.json()) as { error: { message: string; type: string; param?: string } };
      expect(json.error.message.length).toBeGreaterThan(5);
      expect(json.error.type).toBeTruthy();
      if (param) expect(json.error.param).toBe(param);
      expect(h.mock.stats.requests).toBe(before);
    });
  }

  test('Anthropic routes answer in the Anthropic error shape', async () => {
    const res = await h.post(
      '/v1/messages',
      { model: 'claude-sonnet-4-6', messages: [] },
      { 'x-api-key': 'k' },
    );
    expect(res.status).toBe(400);
    const json = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(json.type).toBe('error');
    expect(json.error.type).toBe('invalid_request_error');
    expect(json.error.message).toMatch(/max_tokens|messages/);
  });
});

describe('upstream failures reach the client faithfully', () => {
  test('an upstream 429 and 500 keep their status and body (JSON and stream requests)', async () => {
    for (const status of [429, 500]) {
      const err = await h
        .openai()
        .chat.completions.create(chatBody(`fail ${status}`), { headers: { 'x-mock-status': String(status) } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(status);
      const streamed = await h.post('/v1/chat/completions', chatBody(`fail s ${status}`, { stream: true }), {
        'x-mock-status': String(status),
      });
      expect(streamed.status).toBe(status);
      expect(((await streamed.json()) as { error: { message: string } }).error.message).toBeTruthy();
    }
  });

  test('connection refused is a 502 in protocol shape', async () => {
    const port = await closedPort();
    const dead = await startHarness({ upstream: 'x' } as never, {
      ...h.mock,
      openaiBaseURL: `http://127.0.0.1:${port}/v1`,
      anthropicBaseURL: `http://127.0.0.1:${port}`,
    });
    try {
      const res = await dead.post('/v1/chat/completions', chatBody('refused'));
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('connect_failed');
      const a = await dead.post('/v1/messages', {
        model: 'c',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(a.status).toBe(502);
      expect(((await a.json()) as { type: string }).type).toBe('error');
    } finally {
      await dead.gateway.close();
    }
  });

  test('a reset mid-stream reaches the client as a broken stream, not a clean end', async () => {
    const chunks: unknown[] = [];
    const consume = async () => {
      const stream = await h.openai().chat.completions.create(chatBody('reset', { stream: true }), {
        headers: { 'x-mock-reset': '3', 'x-mock-delay-ms': '20' },
      });
      for await (const chunk of stream) chunks.push(chunk);
    };
    await expect(consume()).rejects.toThrow();
    expect(chunks.length).toBeGreaterThan(0);
  });
});

describe('limits', () => {
  test('idle upstream before any byte → 504', async () => {
    const res = await h.post('/v1/chat/completions', chatBody('hang', { stream: true }), {
      'x-mock-hang': '1',
    });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('idle_timeout');
  });

  test('idle upstream mid-stream → the stream is cut (client sees an error)', async () => {
    const res = await h.post('/v1/chat/completions', chatBody('slow', { stream: true }), {
      'x-mock-delay-ms': '1000',
    });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  test('stream duration limit cuts an endless stream and the upstream is aborted', async () => {
    const aborted = h.mock.stats.abortedStreams;
    const started = Date.now();
    const res = await h.post('/v1/chat/completions', chatBody('endless', { stream: true }), {
      'x-mock-endless': '1',
      'x-mock-delay-ms': '50',
    });
    await expect(res.text()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await eventually(() => h.mock.stats.abortedStreams > aborted);
  });

  test('response bytes limit: 502 when nothing was sent, a cut stream otherwise', async () => {
    const json = await h.post('/v1/chat/completions', chatBody('big json'), { 'x-mock-words': '6000' });
    expect(json.status).toBe(502);
    expect(((await json.json()) as { error: { code: string } }).error.code).toBe('response_too_large');
    const stream = await h.post('/v1/chat/completions', chatBody('big stream', { stream: true }), {
      'x-mock-endless': '1',
    });
    await expect(stream.text()).rejects.toThrow();
  });

  test('limits are counted in metrics', async () => {
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    for (const reason of ['idle_timeout', 'duration_limit', 'response_too_large', 'request_too_large']) {
      expect(metrics).toMatch(new RegExp(`sluice_aborted_streams_total\\{reason="${reason}"\\} [1-9]`));
    }
  });
});

describe('client disconnect', () => {
  test('aborts the upstream request promptly', async () => {
    const aborted = h.mock.stats.abortedStreams;
    const controller = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-endless': '1', 'x-mock-delay-ms': '5' },
      body: JSON.stringify(chatBody('disconnect', { stream: true })),
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    await reader?.read();
    const at = Date.now();
    controller.abort();
    await eventually(() => h.mock.stats.abortedStreams > aborted, 2000);
    const elapsed = Date.now() - at;
    // The bound is 100 ms; the assertion leaves room for a loaded CI machine.
    expect(elapsed).toBeLessThan(250);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  await sleep(10);
  return port;
}
