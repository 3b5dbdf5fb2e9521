import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
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
import type { MockUpstream } from '../mock-upstream/index.js';
import { type Harness, sleep, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

async function send(c: IsolationCase, v: Variant, url = h.url): Promise<string | null> {
  const res = await fetch(`${url}${c.route}${v.query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...v.headers },
    body: JSON.stringify({ ...c.body, ...v.body }),
  });
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get('x-sluice-cache');
}

/** a is cached (proved by a HIT), then b, which differs in one input only, must not get it. */
async function expectIsolated(c: IsolationCase) {
  expect(await send(c, c.a)).toBe('MISS');
  let again = await send(c, c.a);
  for (let i = 0; i < 20 && again !== 'HIT'; i++) {
    await sleep(20);
    again = await send(c, c.a);
  }
  expect(again).toBe('HIT');
  expect(await send(c, c.b)).toBe('MISS');
}

describe('gateway: each credential source scopes its own entries', () => {
  test.each(credentialCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectIsolated(c);
  });

  test.each(credentialPairCases().map((c) => [c.name, c] as const))('two sources at once: %s', async (_name, c) => {
    await expectIsolated(c);
  });

  test('with shareAcrossCredentials, a query credential no longer splits entries', async () => {
    const shared = await startHarness({ cache: { shareAcrossCredentials: true } }, h.mock);
    try {
      const [c] = credentialCases().filter((x) => x.name.includes('?key='));
      if (!c) throw new Error('case missing');
      expect(await send(c, c.a, shared.url)).toBe('MISS');
      await sleep(30);
      let other = await send(c, c.b, shared.url);
      for (let i = 0; i < 20 && other !== 'HIT'; i++) {
        await sleep(20);
        other = await send(c, c.b, shared.url);
      }
      expect(other).toBe('HIT');
    } finally {
      await shared.gateway.close();
    }
  });

  test('a configured credential list is the whole list: a header left off it does not scope', async () => {
    const custom = await startHarness({ cache: { credentialSources: ['x-tenant-token'] } }, h.mock);
    try {
      const c: IsolationCase = {
        ...credentialCases()[0]!,
        name: 'custom',
        a: { headers: { 'x-tenant-token': 't-one', authorization: 'Bearer sk-x' }, query: '' },
        b: { headers: { 'x-tenant-token': 't-two', authorization: 'Bearer sk-x' }, query: '' },
      };
      c.body = { ...c.body, messages: [{ role: 'user', content: `custom list ${Date.now()}` }] };
      expect(await send(c, c.a, custom.url)).toBe('MISS');
      await sleep(30);
      expect(await send(c, c.b, custom.url)).toBe('MISS');
    } finally {
      await custom.gateway.close();
    }
  });
});

describe('gateway: the query string, key headers and Responses store are key material', () => {
  test.each(materialCases().map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectIsolated(c);
  });
});

describe('gateway: a stream with an event after its terminal event', () => {
  let upstream: Server;
  let g: Harness;
  let calls = 0;
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      calls++;
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        if ((JSON.parse(raw) as { stream?: boolean }).stream === true) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(streamWithEventAfterDone());
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(plainAnswer()));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const mock = {
      url,
      openaiBaseURL: `${url}/v1`,
      anthropicBaseURL: url,
      bedrockURL: url,
      geminiBaseURL: url,
      stats: { requests: 0, byPath: {}, chunksWritten: 0, abortedStreams: 0, completedStreams: 0, fileBytesWritten: 0, completedDownloads: 0 },
      resetStats: () => undefined,
      setDefaultKnobs: () => undefined,
      close: async () => undefined,
    } satisfies MockUpstream;
    g = await startHarness({}, mock);
  });
  afterAll(async () => {
    await g.gateway.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  test('is passed through but never stored, so no JSON is ever assembled from what follows [DONE]', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after done' }], stream: true };
    const first = await g.post('/v1/chat/completions', body);
    expect(await first.text()).toContain(AFTER_DONE_TEXT);
    await sleep(50);
    const again = await g.post('/v1/chat/completions', body);
    await again.text();
    expect(again.headers.get('x-sluice-cache')).toBe('MISS');
    const json = await g.post('/v1/chat/completions', { ...body, stream: false });
    const text = await json.text();
    expect(json.headers.get('x-sluice-cache')).toBe('MISS');
    expect(text).not.toMatch(/"content":"[^"]*INJECTED/);
    expect(calls).toBe(3);
  });
});
