import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ResponseCache } from '../../src/index.js';
import {
  AFTER_DONE_TEXT,
  credentialCases,
  credentialPairCases,
  type IsolationCase,
  materialCases,
  plainAnswer,
  streamWithEventAfterDone,
  type Variant,
} from '../helpers/isolation-cases.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

/** The same table as test/gateway/isolation.test.ts, through the library's caching fetch. */

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

function fetchFor(cache: ResponseCache, c: IsolationCase) {
  return c.family === 'openai'
    ? { fetch: cache.fetchFor('openai', mock.openaiBaseURL), base: mock.openaiBaseURL, rest: c.route.slice(3) }
    : { fetch: cache.fetchFor('anthropic', mock.anthropicBaseURL), base: mock.anthropicBaseURL, rest: c.route };
}

async function send(cache: ResponseCache, c: IsolationCase, v: Variant): Promise<string | null> {
  const { fetch, base, rest } = fetchFor(cache, c);
  const res = await fetch(`${base}${rest}${v.query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...v.headers },
    body: JSON.stringify({ ...c.body, ...v.body }),
  });
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get('x-sluice-cache');
}

async function expectIsolated(c: IsolationCase) {
  const cache = new ResponseCache();
  expect(await send(cache, c, c.a)).toBe('MISS');
  expect(await send(cache, c, c.a)).toBe('HIT');
  expect(await send(cache, c, c.b)).toBe('MISS');
}

describe('library: each credential source scopes its own entries', () => {
  test.each(credentialCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectIsolated(c);
  });

  test.each(credentialPairCases().map((c) => [c.name, c] as const))('two sources at once: %s', async (_name, c) => {
    await expectIsolated(c);
  });

  test('credentialSources is an option, validated at construction', async () => {
    expect(() => new ResponseCache({ credentialSources: ['bad header'] })).toThrow(/credentialSources/);
    const cache = new ResponseCache({ credentialSources: ['x-tenant-token'] });
    const c = credentialCases()[0] as IsolationCase;
    const a = { headers: { 'x-tenant-token': 'one' }, query: '' };
    expect(await send(cache, c, a)).toBe('MISS');
    expect(await send(cache, c, { headers: { 'x-tenant-token': 'two' }, query: '' })).toBe('MISS');
    expect(await send(cache, c, a)).toBe('HIT');
  });
});

describe('library: the query string, key headers and Responses store are key material', () => {
  test.each(materialCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectIsolated(c);
  });
});

describe('library: a stream with an event after its terminal event', () => {
  let upstream: Server;
  let baseURL: string;
  let calls = 0;
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      calls++;
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const stream = (JSON.parse(raw) as { stream?: boolean }).stream === true;
        res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
        res.end(stream ? streamWithEventAfterDone() : JSON.stringify(plainAnswer()));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  test('is never stored: the SDK sees the answer, the next stream and the next JSON call go upstream', async () => {
    const cache = new ResponseCache();
    const client = new OpenAI({ baseURL, apiKey: 'sk-x', maxRetries: 0, fetch: cache.fetchFor('openai', baseURL) });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'after done' }] };
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Hello world');
    for await (const _ of await client.chat.completions.create({ ...body, stream: true })) {
      // drain
    }
    const json = await client.chat.completions.create(body);
    expect(json.choices[0]?.message.content).not.toContain(AFTER_DONE_TEXT);
    expect(calls).toBe(3);
  });
});
