import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type IncomingMessage, request } from 'node:http';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

// Cache off: every request goes upstream, so the gateway must be indistinguishable from the mock.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ cache: { mode: 'off' } });
});
afterAll(async () => h.close());

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  },
];

async function collectChat(
  stream: AsyncIterable<{
    choices: Array<{ delta: { content?: string | null }; finish_reason: string | null }>;
    usage?: unknown;
  }>,
) {
  let text = '';
  let finish: string | null = null;
  let usage: unknown;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, finish, usage };
}

describe('OpenAI SDK through the gateway gets what it gets from the upstream', () => {
  test('chat, JSON', async () => {
    const body = chatBody('parity json', { temperature: 0.3 });
    const viaGateway = await h.openai().chat.completions.create(body);
    const direct = await h.directOpenai().chat.completions.create(body);
    expect(viaGateway.choices).toEqual(direct.choices);
    expect(viaGateway.usage).toEqual(direct.usage);
    expect(viaGateway.choices[0]?.message.content?.length).toBeGreaterThan(10);
  });

  test('chat, streamed with usage', async () => {
    const body = {
      ...chatBody('parity stream'),
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const viaGateway = await collectChat(await h.openai().chat.completions.create(body));
    const direct = await collectChat(await h.directOpenai().chat.completions.create(body));
    expect(viaGateway).toEqual(direct);
    expect(viaGateway.finish).toBe('stop');
    expect(viaGateway.usage).toBeTruthy();
  });

  test('chat stream helper with tool calls', async () => {
    const body = { ...chatBody('call a tool please'), tools };
    const options = { headers: { 'x-mock-tool-call': '1' } };
    const viaGateway = await h.openai().chat.completions.stream(body, options).finalChatCompletion();
    const direct = await h.directOpenai().chat.completions.stream(body, options).finalChatCompletion();
    expect(viaGateway.choices[0]?.message.tool_calls).toEqual(direct.choices[0]?.message.tool_calls);
    expect(viaGateway.choices[0]?.message.tool_calls?.length).toBeGreaterThan(0);
    expect(viaGateway.choices[0]?.finish_reason).toBe('tool_calls');
  });

  test('responses stream helper, legacy completions and embeddings', async () => {
    const rBody = { model: 'gpt-4o-mini', input: 'parity responses' };
    const viaGateway = await h.openai().responses.stream(rBody).finalResponse();
    const direct = await h.directOpenai().responses.stream(rBody).finalResponse();
    expect(viaGateway.output_text).toBe(direct.output_text);
    expect(viaGateway.usage).toEqual(direct.usage);

    const cBody = { model: 'gpt-3.5-turbo-instruct', prompt: 'Once upon' };
    const c1 = await h.openai().completions.create(cBody);
    const c2 = await h.directOpenai().completions.create(cBody);
    expect(c1.choices[0]?.text).toBe(c2.choices[0]?.text);

    const eBody = { model: 'text-embedding-3-small', input: ['a', 'b'] };
    const e1 = await h.openai().embeddings.create(eBody);
    const e2 = await h.directOpenai().embeddings.create(eBody);
    expect(e1.data.map((d) => d.embedding)).toEqual(e2.data.map((d) => d.embedding));
  });

  test('awkward framing (CRLF, 7-byte network pieces, keep-alives) passes byte for byte', async () => {
    const headers = { 'x-mock-crlf': '1', 'x-mock-split': '7', 'x-mock-keepalive': '1' };
    const body = chatBody('framing', { stream: true });
    const viaGateway = await (await h.post('/v1/chat/completions', body, headers)).arrayBuffer();
    const direct = await (
      await fetch(`${h.mock.openaiBaseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    ).arrayBuffer();
    expect(Buffer.from(viaGateway).equals(Buffer.from(direct))).toBe(true);
  });
});

describe('Anthropic SDK through the gateway', () => {
  test('create, stream and the finalMessage helper with tool use and thinking', async () => {
    const body = {
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'parity anthropic' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } }],
    };
    const options = { headers: { 'x-mock-tool-call': '1', 'x-mock-reasoning': '1' } };
    const a = await h.anthropic().messages.create(body, options);
    const b = await h.directAnthropic().messages.create(body, options);
    expect(a.content).toEqual(b.content);
    expect(a.usage).toEqual(b.usage);
    const s1 = await h.anthropic().messages.stream(body, options).finalMessage();
    const s2 = await h.directAnthropic().messages.stream(body, options).finalMessage();
    expect(s1.content).toEqual(s2.content);
    expect(s1.stop_reason).toBe(s2.stop_reason);
    expect(s1.content.some((block) => block.type === 'tool_use')).toBe(true);
    expect(s1.content.some((block) => block.type === 'thinking')).toBe(true);
  });
});

describe('headers and credentials', () => {
  test('the client credential and x-request-id reach the upstream; hop-by-hop and x-sluice-* do not', async () => {
    const res = await h.post('/v1/chat/completions', chatBody('creds'), {
      authorization: 'Bearer sk-client-key',
      'x-request-id': 'req-abc-123',
      'x-sluice-namespace': 'ns1',
      'proxy-authorization': 'Basic x',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    const seen = h.mock.stats.lastRequest?.headers ?? {};
    expect(seen.authorization).toBe('Bearer sk-client-key');
    expect(seen['x-request-id']).toBe('req-abc-123');
    expect(seen['x-sluice-namespace']).toBeUndefined();
    expect(seen['proxy-authorization']).toBeUndefined();
  });

  test('a request id is generated when the client sends none', async () => {
    const res = await h.post('/v1/chat/completions', chatBody('gen id'));
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a configured upstream key replaces the client credential', async () => {
    const keyed = await startHarness({ upstreamApiKey: 'sk-gateway-owned', cache: { mode: 'off' } }, h.mock);
    try {
      await keyed.post('/v1/chat/completions', chatBody('keyed'), { authorization: 'Bearer sk-client' });
      expect(h.mock.stats.lastRequest?.headers.authorization).toBe('Bearer sk-gateway-owned');
    } finally {
      await keyed.close();
    }
  });

  test('other /v1/* paths pass through uncached', async () => {
    const res = await fetch(`${h.url}/v1/models`, { headers: { authorization: 'Bearer sk-x' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sluice-cache')).toBe('BYPASS');
    const body = (await res.json()) as { data: unknown[] };
    expect(body.data.length).toBeGreaterThan(0);
  });

  test('healthz and metrics', async () => {
    expect(await (await fetch(`${h.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('sluice_requests_total{route="/v1/chat/completions",status="200"');
    expect(metrics).toContain('sluice_upstream_ttfb_seconds_bucket');
    expect(metrics).toContain('sluice_bytes_streamed_total');
  });
});

describe('pass-through backpressure', () => {
  test('a client that stops reading a download stops the upstream too: the gateway does not buffer it', async () => {
    const size = 64 * 1024 * 1024;
    const g = await startHarness();
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        request(`${g.url}/v1/files/file-big/content`, { headers: { authorization: 'Bearer sk-x', 'x-mock-bytes': String(size) } }, resolve)
          .on('error', reject)
          .end();
      });
      expect(res.statusCode).toBe(200);
      res.pause();
      // Loopback moves gigabytes a second: an unbounded relay would have read it all by now.
      await sleep(800);
      const whileStalled = g.mock.stats.fileBytesWritten;
      expect(g.mock.stats.completedDownloads).toBe(0);
      // The socket buffers between the three processes hold a few MiB; a relay with no backpressure holds it all.
      expect(whileStalled).toBeLessThan(size / 2);
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      res.resume();
      await new Promise((resolve) => res.once('end', resolve));
      expect(received).toBe(size);
      expect(g.mock.stats.completedDownloads).toBe(1);
    } finally {
      await g.close();
    }
  });

  test('a client that leaves a stalled download stops the upstream call', async () => {
    const size = 64 * 1024 * 1024;
    const g = await startHarness();
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        request(`${g.url}/v1/files/file-left/content`, { headers: { authorization: 'Bearer sk-x', 'x-mock-bytes': String(size) } }, resolve)
          .on('error', reject)
          .end();
      });
      res.pause();
      await sleep(300);
      res.destroy();
      await sleep(300);
      const afterLeaving = g.mock.stats.fileBytesWritten;
      await sleep(300);
      // Nothing more was sent for a client that is gone, and the download never completed.
      expect(g.mock.stats.fileBytesWritten).toBe(afterLeaving);
      expect(g.mock.stats.completedDownloads).toBe(0);
      expect(afterLeaving).toBeLessThan(size);
    } finally {
      await g.close();
    }
  });
});
