import Anthropic from '@anthropic-ai/sdk';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectHttp2, Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acceptCleartextHttp2 } from '../../src/gateway/h2c.js';
import { ResponseCache, wrapAnthropic, wrapOpenAI } from '../../src/index.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

/**
 * What Sluice assumes of Node and of the SDKs beyond their public APIs, pinned: each test fails
 * on an upgrade that breaks the assumption, naming the code to change. CI runs them on Node 20,
 * 22 and 24 (.ci/run). (gateway/client-errors.ts no longer reads node:http's private
 * socket._httpMessage: it keeps each connection's response from the public 'request' event.)
 */

describe('node:http and node:http2 (src/gateway/h2c.ts)', () => {
  test("node:http serves a connection through exactly one 'connection' listener, which h2c.ts moves behind its sniffer", () => {
    const server = createServer();
    expect(
      server.listeners('connection'),
      "node:http no longer installs one 'connection' listener: review acceptCleartextHttp2 in src/gateway/h2c.ts",
    ).toHaveLength(1);
    acceptCleartextHttp2(server, () => undefined);
    expect(server.listeners('connection')).toHaveLength(1);
  });

  test('Http2ServerResponse has no `destroyed` (h2c.ts defines it; once Node does, remove exposeDestroyed)', () => {
    expect(
      'destroyed' in Http2ServerResponse.prototype,
      'Node now defines Http2ServerResponse#destroyed: delete exposeDestroyed in src/gateway/h2c.ts',
    ).toBe(false);
  });

  describe('one port, both protocols, through the moved listener', () => {
    let url: string;
    const server = createServer();
    beforeAll(async () => {
      server.headersTimeout = 300;
      server.requestTimeout = 600;
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${req.httpVersion} ${String((res as { destroyed?: boolean }).destroyed)}`);
      };
      server.on('request', handler);
      acceptCleartextHttp2(server, handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    test('HTTP/1.1 is served by node:http itself', async () => {
      expect(await (await fetch(url)).text()).toBe('1.1 false');
    });

    test('HTTP/2 with prior knowledge is served, with `destroyed` defined', async () => {
      const session = connectHttp2(url);
      try {
        const text = await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ':path': '/' });
          let out = '';
          stream.setEncoding('utf8');
          stream.on('data', (c: string) => (out += c));
          stream.once('end', () => resolve(out));
          stream.once('error', reject);
        });
        expect(text).toBe('2.0 false');
      } finally {
        session.close();
      }
    });
  });
});

describe("the SDKs keep a client's custom fetch where src/lib/sdk-wrappers.ts reads it", () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream();
  });
  afterAll(async () => mock.close());

  const counting = () => {
    const seen: string[] = [];
    const fetchFn = (input: string | URL | Request, init?: RequestInit) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    return { seen, fetchFn };
  };

  test('openai: the custom fetch makes the real call', async () => {
    const { seen, fetchFn } = counting();
    const client = wrapOpenAI(
      new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'k', maxRetries: 0, fetch: fetchFn }),
      { cache: new ResponseCache() },
    );
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `pin ${Date.now()}` }] });
    expect(seen, "openai no longer keeps its custom fetch in the 'fetch' field: review clientFetch").toHaveLength(1);
  });

  test('anthropic: the custom fetch makes the real call', async () => {
    const { seen, fetchFn } = counting();
    const client = wrapAnthropic(
      new Anthropic({ baseURL: mock.anthropicBaseURL, apiKey: 'k', maxRetries: 0, fetch: fetchFn }),
      { cache: new ResponseCache() },
    );
    await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 32,
      messages: [{ role: 'user', content: `pin ${Date.now()}` }],
    });
    expect(seen, "@anthropic-ai/sdk no longer keeps its custom fetch in the 'fetch' field: review clientFetch").toHaveLength(1);
  });
});
