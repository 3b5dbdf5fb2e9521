import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startMockUpstream, type MockUpstream } from '../mock-upstream/index.js';
import { type Harness, sleep, startHarness } from './harness.js';

/** HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on the gateway's one port. */

let mock: MockUpstream;
let h: Harness;
beforeAll(async () => {
  mock = await startMockUpstream();
  h = await startHarness({}, mock);
});
afterAll(async () => {
  await h.close();
  await mock.close();
});

function http2Request(
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(url);
    session.once('error', reject);
    const stream = session.request(headers);
    let text = '';
    let responseHeaders: Record<string, unknown> = {};
    stream.on('response', (h2Headers) => {
      responseHeaders = h2Headers;
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.once('end', () => {
      session.close();
      resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, text });
    });
    stream.once('error', reject);
    stream.end(body);
  });
}

test('an HTTP/2 client and an HTTP/1.1 client share the port and the cache', async () => {
  const health = await http2Request(h.url, { ':method': 'GET', ':path': '/healthz' });
  expect(health.status).toBe(200);

  const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'h2 then h1' }] }] });
  const path = `/model/${encodeURIComponent('anthropic.claude-3-5-haiku-20241022-v1:0')}/converse`;
  const headers = { 'content-type': 'application/json', authorization: 'Bearer h2-key', 'x-mock-unique': '1' };
  const overHttp2 = await http2Request(h.url, { ':method': 'POST', ':path': path, ...headers }, body);
  expect(overHttp2.status).toBe(200);
  expect(overHttp2.headers['x-sluice-cache']).toBe('MISS');
  await sleep(40);
  const overHttp1 = await fetch(`${h.url}${path}`, { method: 'POST', headers, body });
  expect(overHttp1.headers.get('x-sluice-cache')).toBe('HIT');
  expect(await overHttp1.text()).toBe(overHttp2.text);
});

test('a connection that never says which protocol it speaks does not hold up shutdown', async () => {
  const other = await startHarness({}, mock);
  const port = Number(new URL(other.url).port);
  const socket = connectTcp(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const started = Date.now();
  await other.gateway.close();
  expect(Date.now() - started).toBeLessThan(2000);
  socket.destroy();
});
