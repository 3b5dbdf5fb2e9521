import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { summarizeInstance, summaryMessage } from '../../src/gateway/instance-summary.js';
import { generate, genai } from '../gemini/helpers.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type Harness, sleep, startHarness } from './harness.js';

/**
 * Named upstreams (config `upstreams:`) beside the unnamed default, in one gateway: two
 * OpenAI-compatible mock servers that answer the same prompt differently (different answer salts),
 * a Gemini one, and the default. Each is isolated (never one entry for two upstreams), has its own
 * key, limits and counts, and can be purged on its own.
 */

const ADMIN = 'admin-token-for-named-upstreams';
const BETA_KEY = 'sk-beta-upstream-key';

let alpha: MockUpstream;
let beta: MockUpstream;
let h: Harness;

beforeAll(async () => {
  alpha = await startMockUpstream({ answerSalt: 'alpha' });
  beta = await startMockUpstream({ answerSalt: 'beta' });
  h = await startHarness({
    adminToken: ADMIN,
    upstreams: {
      alpha: { url: alpha.openaiBaseURL, protocol: 'openai', limits: { idleTimeoutMs: 400 } },
      beta: { url: beta.openaiBaseURL, protocol: 'openai', apiKey: BETA_KEY, maxConnections: 4 },
      gem: { url: alpha.geminiBaseURL, protocol: 'gemini' },
      solo: { url: beta.openaiBaseURL, protocol: 'openai', maxConnections: 1 },
      // The README's client table: Groq, Ollama and vLLM through named upstreams (here the mocks).
      groq: { url: alpha.openaiBaseURL, protocol: 'openai', apiKey: 'gsk-configured' },
      ollama: { url: beta.openaiBaseURL, protocol: 'openai' },
      vllm: { url: alpha.openaiBaseURL, protocol: 'openai' },
    },
  });
});
afterAll(async () => {
  await h.close();
  await alpha.close();
  await beta.close();
});

const client = (base: string) => new OpenAI({ baseURL: `${h.url}${base}/v1`, apiKey: 'sk-client-key', maxRetries: 0 });

async function ask(base: string, prompt: string, headers: Record<string, string> = {}) {
  const { data, response } = await client(base)
    .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }, { headers })
    .withResponse();
  return { text: data.choices[0]?.message.content ?? '', cache: response.headers.get('x-sluice-cache') };
}

async function admin(path: string, body?: unknown) {
  const res = await fetch(`${h.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('two named upstreams and the default, side by side', () => {
  test('the same prompt to each is its own entry, answered by its own server', async () => {
    const prompt = 'one prompt, three servers';
    const first = {
      default: await ask('', prompt),
      alpha: await ask('/alpha', prompt),
      beta: await ask('/beta', prompt),
    };
    expect(Object.values(first).map((a) => a.cache)).toEqual(['MISS', 'MISS', 'MISS']);
    // Three servers, three answers: a shared entry would have made two of them equal.
    expect(new Set(Object.values(first).map((a) => a.text)).size).toBe(3);
    await sleep(40);
    const requests = [h.mock.stats.requests, alpha.stats.requests, beta.stats.requests];
    expect(await ask('', prompt)).toEqual({ ...first.default, cache: 'HIT' });
    expect(await ask('/alpha', prompt)).toEqual({ ...first.alpha, cache: 'HIT' });
    expect(await ask('/beta', prompt)).toEqual({ ...first.beta, cache: 'HIT' });
    expect([h.mock.stats.requests, alpha.stats.requests, beta.stats.requests]).toEqual(requests);
  });

  test('an upstream with its own key sends it instead of the client\'s; the others forward the client\'s', async () => {
    await ask('/beta', 'whose key goes to beta');
    expect(beta.stats.lastRequest?.headers.authorization).toBe(`Bearer ${BETA_KEY}`);
    await ask('/alpha', 'whose key goes to alpha');
    expect(alpha.stats.lastRequest?.headers.authorization).toBe('Bearer sk-client-key');
    expect(alpha.stats.lastRequest?.path).toBe('/v1/chat/completions');
  });

  test('a Gemini upstream under its name, with the official SDK', async () => {
    const ai = genai(`${h.url}/gem`);
    const first = await generate(ai, { model: 'gemini-2.5-flash', contents: 'named gemini' });
    expect(first.cache).toBe('MISS');
    expect(alpha.stats.lastRequest?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    await sleep(40);
    const second = await generate(ai, { model: 'gemini-2.5-flash', contents: 'named gemini' });
    expect(second).toEqual({ ...first, cache: 'HIT' });
  });

  test('a route of another family under a name is a 404 in that upstream\'s shape; other paths pass through', async () => {
    const wrong = await fetch(`${h.url}/alpha/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [] }),
    });
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
    const before = alpha.stats.byPath['/v1/models'] ?? 0;
    const models = await fetch(`${h.url}/alpha/v1/models`, { headers: { authorization: 'Bearer sk-client-key' } });
    expect(models.status).toBe(200);
    expect(models.headers.get('x-sluice-cache')).toBe('BYPASS');
    expect(alpha.stats.byPath['/v1/models']).toBe(before + 1);
  });

  test('errors raised before routing (431) use the named upstream\'s error shape', async () => {
    const res = await fetch(`${h.url}/gem/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-padding': 'x'.repeat(20_000) },
      body: '{}',
    });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ error: { code: 431, status: 'INVALID_ARGUMENT' } });
  });

  test('limits are per upstream: alpha\'s idle timeout cuts a silent answer, the default\'s does not apply', async () => {
    const started = Date.now();
    const res = await fetch(`${h.url}/alpha/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client-key', 'x-mock-hang': '1' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hang' }] }),
    });
    await res.text().catch(() => '');
    // The default idle timeout is minutes; alpha's is 400 ms (generous margin for a loaded machine).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(504);
  });

  test('the pool is per upstream: with maxConnections 1, a second call waits for the first answer to end', async () => {
    const slow = { 'x-mock-delay-ms': '40', 'x-mock-words': '10', 'x-mock-unique': '1' };
    const timed = async (prompt: string) => {
      const started = Date.now();
      const res = await fetch(`${h.url}/solo/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client-key', ...slow },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: prompt }] }),
      });
      const headersAt = Date.now() - started;
      await res.text();
      return { headersAt, endedAt: Date.now() - started };
    };
    const [first, second] = await Promise.all([timed('pool one'), timed('pool two')]);
    const [early, late] = first.headersAt <= second.headersAt ? [first, second] : [second, first];
    // The answer takes ~10 x 40 ms; the other call's headers cannot come before it ended (one connection).
    expect(early.endedAt).toBeGreaterThan(300);
    expect(late.headersAt).toBeGreaterThanOrEqual(early.endedAt - 50);
  });

  test('purge by upstream removes only that upstream\'s entries', async () => {
    const prompt = 'purge only alpha';
    await ask('', prompt);
    await ask('/alpha', prompt);
    await ask('/beta', prompt);
    await sleep(40);
    const purged = await admin('/admin/purge', { upstream: 'alpha' });
    expect(purged.purged).toBeGreaterThanOrEqual(1);
    expect((await ask('/alpha', prompt)).cache).toBe('MISS');
    expect((await ask('/beta', prompt)).cache).toBe('HIT');
    expect((await ask('', prompt)).cache).toBe('HIT');
  });

  test('requests are counted by upstream in /metrics and /admin/stats', async () => {
    // A request refused at admission counts for its upstream too.
    const refused = await fetch(`${h.url}/beta/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": 1}',
    });
    expect(refused.status).toBe(400);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/sluice_upstream_requests_total\{upstream="beta",outcome="ERROR"\} 1/);
    expect(metrics).toMatch(/sluice_upstream_requests_total\{upstream="alpha",outcome="HIT"\} [1-9]/);
    expect(metrics).toMatch(/sluice_upstream_requests_total\{upstream="beta",outcome="MISS"\} [1-9]/);
    expect(metrics).toMatch(/sluice_upstream_requests_total\{upstream="openai",outcome="HIT"\} [1-9]/);
    expect(metrics).toMatch(/sluice_upstream_requests_total\{upstream="gem",outcome="HIT"\} 1/);
    const stats = await admin('/admin/stats');
    const names = (stats.upstreams as Array<{ name: string; hits: number }>).map((u) => u.name).sort();
    expect(names).toEqual(expect.arrayContaining(['alpha', 'beta', 'gem', 'openai', 'solo']));
  });
});

describe("the README's client table", () => {
  test.each([
    ['groq', (base: string) => new OpenAI({ baseURL: `${base}/groq/v1`, apiKey: 'gsk-client', maxRetries: 0 })],
    ['ollama', (base: string) => new OpenAI({ baseURL: `${base}/ollama/v1`, apiKey: 'ollama', maxRetries: 0 })],
    ['vllm', (base: string) => new OpenAI({ baseURL: `${base}/vllm/v1`, apiKey: 'EMPTY', maxRetries: 0 })],
  ])('%s through a named upstream: the second call comes from the cache', async (name, make) => {
    const openai = make(h.url);
    const params = { model: 'llama-3.1-8b-instant', messages: [{ role: 'user' as const, content: `hello ${name}` }] };
    const first = await openai.chat.completions.create(params).withResponse();
    expect(first.response.headers.get('x-sluice-cache')).toBe('MISS');
    await sleep(40);
    const second = await openai.chat.completions.create(params).withResponse();
    expect(second.response.headers.get('x-sluice-cache')).toBe('HIT');
    expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
  });
});

describe('the upstreams block is validated at start', () => {
  test('the start-up line names each upstream, its family and URL, never its key', () => {
    const config = parseConfig({
      upstreams: { groq: { url: 'https://api.groq.com/openai/v1/', protocol: 'openai', apiKey: 'gsk-never-logged' } },
    });
    const summary = summarizeInstance(config, 'http://127.0.0.1:8080');
    expect(summary.namedUpstreams).toEqual({ groq: 'openai https://api.groq.com/openai/v1' });
    expect(summaryMessage(summary)).toContain('/groq/ -> openai https://api.groq.com/openai/v1');
    expect(JSON.stringify(summary) + summaryMessage(summary)).not.toContain('gsk-never-logged');
  });

  test.each([
    ['a reserved name', { v1: { url: 'http://127.0.0.1:9/v1', protocol: 'openai' } }, 'upstreams.v1'],
    ['a name that is not a path segment', { 'Gro q': { url: 'http://127.0.0.1:9/v1', protocol: 'openai' } }, 'upstreams'],
    ['an unknown protocol', { groq: { url: 'http://127.0.0.1:9/v1', protocol: 'cohere' } }, 'upstreams.groq.protocol'],
    ['a bad URL', { groq: { url: 'not a url', protocol: 'openai' } }, 'upstreams.groq.url'],
    ['an unknown field', { groq: { url: 'http://127.0.0.1:9/v1', protocol: 'openai', region: 'x' } }, 'upstreams.groq'],
  ])('%s', (_label, upstreams, field) => {
    let error: unknown;
    try {
      parseConfig({ upstreams });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(field);
  });
});
