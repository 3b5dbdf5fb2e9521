import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, type Harness, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ adminToken: 'admin-token-0123456789' });
});
afterAll(async () => h.close());

async function postRaw(path: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  return fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bad-input', ...headers },
    body,
  });
}

describe('413: a client uploading an oversized body reads the 413', () => {
  test('11-50 MB uploads, declared and chunked, all see 413 (never EPIPE / reset)', async () => {
    const sizes = [11, 14, 18, 23, 27, 31, 36, 40, 45, 50];
    const outcomes: string[] = [];
    const one = async (mb: number, chunked: boolean) => {
      const bytes = Buffer.alloc(mb * 1024 * 1024, 0x61);
      const body = chunked
        ? new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i < bytes.length; i += 1 << 20) controller.enqueue(bytes.subarray(i, i + (1 << 20)));
              controller.close();
            },
          })
        : bytes;
      try {
        const res = await fetch(`${h.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          ...(chunked ? { duplex: 'half' } : {}),
        } as RequestInit);
        const json = (await res.json()) as { error: { type: string } };
        outcomes.push(`${res.status} ${json.error.type}`);
      } catch (err) {
        outcomes.push(`error ${String((err as { cause?: { code?: string } }).cause?.code ?? err)}`);
      }
    };
    for (let i = 0; i < sizes.length; i += 2) {
      await Promise.all([one(sizes[i] as number, i % 4 === 0), one(sizes[i + 1] as number, i % 4 !== 0)]);
    }
    expect(outcomes).toEqual(sizes.map(() => '413 invalid_request_error'));
  }, 60_000);
});

/** Raw bytes over a socket, for what fetch will not send (64 KB headers, dribbled requests). */
function rawExchange(port: number, write: (socket: Socket) => void) {
  return new Promise<{ text: string; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => resolve({ text, ms: Date.now() - started }));
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    socket.on('connect', () => write(socket));
    setTimeout(() => reject(new Error('socket still open after 15 s')), 15_000).unref();
  });
}

const port = () => Number(new URL(h.url).port);

function jsonOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

describe('bad input gets a 4xx in the protocol shape, never a 500', () => {
  test('invalid UTF-8 in the body → 400 (a lenient decode would make two bodies share a key)', async () => {
    const before = h.mock.stats.requests;
    const bytes = Buffer.concat([
      Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"caf'),
      Buffer.from([0xff]),
      Buffer.from('"}]}'),
    ]);
    const res = await postRaw('/v1/chat/completions', bytes);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { type: string; code: string } };
    expect(json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_utf8' });
    const ant = await postRaw('/v1/messages', Buffer.concat([Buffer.from('{"model":"x","a":"'), Buffer.from([0xc3]), Buffer.from('"}')]));
    expect(ant.status).toBe(400);
    expect(await ant.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(h.mock.stats.requests).toBe(before);
  });

  const deep = (levels: number) => `${'['.repeat(levels)}"x"${']'.repeat(levels)}`;
  const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  test('nesting past the depth limit → 400, in OpenAI and Anthropic shape (was a 500 at ~4,500 levels)', async () => {
    const chat = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${deep(4500)}}]}`;
    const res = await postRaw('/v1/chat/completions', chat);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'too_deep' } });

    const tools = `{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deepObject(4500)}}]}`;
    const ant = await postRaw('/v1/messages', tools, { 'x-api-key': 'k' });
    expect(ant.status).toBe(400);
    const body = (await ant.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toMatch(/128 levels/);
  });

  test('nesting within the limit is served', async () => {
    const ok = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"depth ok"}],"metadata":{"x":${deepObject(100)}}}`;
    const res = await postRaw('/v1/chat/completions', ok);
    expect(res.status).toBe(200);
    await res.text();
  });

  test.each([
    ['application/x-www-form-urlencoded; x=json', 415],
    ['text/plain; note=application/json', 415],
    ['application/jsonx', 415],
    ['text/json', 415],
    ['application/json; charset=latin1', 415],
    ['application/json', 200],
    ['Application/JSON; charset="UTF-8"', 200],
    ['application/vnd.openai+json', 200],
  ])('Content-Type %s → %i', async (contentType, status) => {
    const res = await postRaw('/v1/chat/completions', JSON.stringify(chatBody(`media type ${contentType}`)), {
      'content-type': contentType,
    });
    expect(res.status).toBe(status);
    if (status !== 200) expect(await res.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    else await res.text();
  });

  test('405 is a client error, in each protocol shape', async () => {
    const openai = await fetch(`${h.url}/v1/chat/completions`);
    expect(openai.status).toBe(405);
    expect(await openai.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'method_not_allowed' } });
    const anthropic = await fetch(`${h.url}/v1/messages`, { method: 'PUT', body: '{}' });
    expect(anthropic.status).toBe(405);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  test('431 for a 64 KB header has a body in the route protocol shape', async () => {
    const big = 'x'.repeat(64 * 1024);
    for (const [path, check] of [
      ['/v1/messages', (j: unknown) => expect(j).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })],
      ['/v1/chat/completions', (j: unknown) => expect(j).toMatchObject({ error: { type: 'invalid_request_error', code: 'headers_too_large' } })],
    ] as const) {
      const { text } = await rawExchange(port(), (s) =>
        s.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-big: ${big}\r\ncontent-length: 2\r\n\r\n{}`),
      );
      expect(text).toMatch(/^HTTP\/1\.1 431 /);
      check(jsonOf(text));
    }
  });

  test('a bad % escape under /admin/entries/ → 400', async () => {
    const res = await fetch(`${h.url}/admin/entries/v2:%E0%A4%A`, {
      headers: { authorization: 'Bearer admin-token-0123456789' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_path' } });
  });

  test('the admin bearer scheme is case-insensitive', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await fetch(`${h.url}/admin/stats`, { headers: { authorization: `${scheme} admin-token-0123456789` } });
      expect(res.status).toBe(200);
      await res.text();
    }
    const wrong = await fetch(`${h.url}/admin/stats`, { headers: { authorization: 'bearer wrong-token-0123456789' } });
    expect(wrong.status).toBe(401);
  });
});

describe('slow clients: header and body read timeouts', () => {
  let slow: Harness;
  beforeAll(async () => {
    slow = await startHarness({ limits: { headersTimeoutMs: 400, requestTimeoutMs: 800 } }, h.mock);
  });
  afterAll(async () => slow.gateway.close());
  const slowPort = () => Number(new URL(slow.url).port);

  test('a client dribbling its headers is answered 408 and closed within the bound', async () => {
    const { text, ms } = await rawExchange(slowPort(), (s) => {
      s.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n');
      const timer = setInterval(() => (s.writable ? s.write('x') : clearInterval(timer)), 100);
      s.on('close', () => clearInterval(timer));
    });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(jsonOf(text)).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_timeout' } });
    expect(ms).toBeLessThan(3000);
  });

  test('a client dribbling its body is answered 408 and closed within the bound', async () => {
    const { text, ms } = await rawExchange(slowPort(), (s) => {
      s.write('POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
      const timer = setInterval(() => (s.writable ? s.write(' ') : clearInterval(timer)), 100);
      s.on('close', () => clearInterval(timer));
    });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(jsonOf(text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(ms).toBeLessThan(3000);
  });

  test('a streamed answer longer than both timeouts is not affected', async () => {
    const res = await slow.post('/v1/chat/completions', chatBody(`long stream ${Date.now()}`, { stream: true }), {
      'x-mock-delay-ms': '100',
      'x-mock-words': '20',
    });
    const started = Date.now();
    const text = await res.text();
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(text).toContain('data: [DONE]');
  });
});

describe('request targets are paths, never authorities', () => {
  const send = (target: string) =>
    rawExchange(port(), (socket) =>
      socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );

  test('a target starting with // is a path: 404 in the error shape, never a 500, never another host or route', async () => {
    const before = h.mock.stats.requests;
    for (const target of ['//', '//x', '//evil.example/v1/models', '//healthz']) {
      const { text } = await send(target);
      expect(text.split('\r\n')[0], target).toBe('HTTP/1.1 404 Not Found');
      expect(jsonOf(text), target).toMatchObject({ error: { code: 'not_found' } });
    }
    // '//evil.example/v1/models' must not be read as host evil.example, path /v1/models (a pass-through).
    expect(h.mock.stats.requests).toBe(before);
  });

  test('a target the URL parser refuses is a 400, not a 500', async () => {
    const { text } = await send('http://[bad/v1/models');
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(jsonOf(text)).toMatchObject({ error: { code: 'invalid_request_target' } });
  });
});
