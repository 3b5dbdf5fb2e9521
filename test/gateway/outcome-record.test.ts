import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, eventually, sleep } from './harness.js';

/**
 * One outcome record per request (issue 24): every figure of a request is read from the one record
 * its adapter and the engine filled, handed to the sinks when the response closed. Two figures that
 * used to be counted apart, tokens saved in /admin/stats and in the dashboard's savings, must agree,
 * and the access log must name the path a pass-through request was sent to.
 */

const ADMIN = 'admin-token-for-outcome-tests';
const API_KEY = 'sk-outcome-secret-key';

let mock: MockUpstream;
let gateway: Gateway;
let url: string;
let raw = '';

beforeAll(async () => {
  mock = await startMockUpstream();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      done();
    },
  });
  gateway = createGateway(
    parseConfig({ port: 0, upstream: mock.openaiBaseURL, anthropicUpstream: mock.anthropicBaseURL, adminToken: ADMIN }),
    { logger: createLogger('info', sink) },
  );
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway.close();
  await mock.close();
});

const accessLines = () =>
  raw
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.access === true);

const post = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
    body: JSON.stringify(body),
    signal,
  });

interface AdminStats {
  tokensSaved: { input: number; output: number };
  savings: { hits: number; tokens: { input: number; output: number } };
}
const adminStats = async () =>
  (await (await fetch(`${url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as AdminStats;

describe('one figure per quantity', () => {
  test('after a paced hit the client abandoned, /admin/stats, the dashboard and /metrics count the same tokens saved', async () => {
    const body = chatBody('paced and abandoned', { stream: true, stream_options: { include_usage: true } });
    await (await post(body, { 'x-mock-words': '40' })).text();
    await eventually(async () => {
      const res = await post(body);
      await res.text();
      return res.headers.get('x-sluice-cache') === 'HIT';
    });
    // One hit delivered whole (above), then one paced at 10 tokens/s that the client leaves after its first bytes.
    const abort = new AbortController();
    const paced = await post(body, { 'x-sluice-replay': '10' }, abort.signal);
    expect(paced.headers.get('x-sluice-cache')).toBe('HIT');
    const reader = paced.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await sleep(200);

    const s = await adminStats();
    // One delivered hit saved tokens; the abandoned one delivered nothing of value and saved none.
    expect(s.savings.hits).toBe(1);
    expect(s.savings.tokens.input).toBeGreaterThan(0);
    expect(s.tokensSaved).toEqual(s.savings.tokens);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const value = (kind: string) =>
      Number(new RegExp(`^sluice_cache_tokens_saved_total\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('input')).toBe(s.savings.tokens.input);
    expect(value('output')).toBe(s.savings.tokens.output);
    // The abandoned hit is still logged, as not completed.
    await eventually(() => accessLines().some((l) => l.cache === 'HIT' && l.completed === false));
  });
});

describe('the access log', () => {
  test('a pass-through request is logged with the path it was sent to, never its query string', async () => {
    const res = await fetch(`${url}/v1/models?key=query-secret-value`, {
      headers: { authorization: `Bearer ${API_KEY}`, 'x-request-id': 'pass-1' },
    });
    await res.text();
    await eventually(() => accessLines().some((l) => l.requestId === 'pass-1'));
    const line = accessLines().find((l) => l.requestId === 'pass-1');
    expect(line).toMatchObject({ method: 'GET', route: '/v1/models', status: 200, cache: 'BYPASS', completed: true });
    expect(raw).not.toContain('query-secret-value');
    expect(raw).not.toContain(API_KEY);
  });
});
