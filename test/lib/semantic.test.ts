import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, ResponseCache, wrapAnthropic, wrapOpenAI } from '../../src/index.js';
import { type Harness, sleep, startHarness } from '../gateway/harness.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

/** The SDK wrappers with `semantic` options: the same layer the gateway runs, in process. */

async function indexed(cache: ResponseCache, before: number) {
  for (let i = 0; i < 100; i++) {
    if (semanticRows(cache) > before) return;
    await sleep(10);
  }
}

function semanticRows(cache: ResponseCache): number {
  return cache.semanticStats().rows;
}

describe('library wrappers with semantic options', () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream();
  });
  afterAll(async () => mock.close());

  it('wrapOpenAI: a near-duplicate is a SEMANTIC-HIT, counted in stats; guards apply as in the gateway', async () => {
    const cache = new ResponseCache({ semantic: { enabled: true } });
    const openai = wrapOpenAI(new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-lib', maxRetries: 0 }), { cache });
    const first = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'How do I reverse a list in Python?' }],
    });
    await indexed(cache, 0);
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'how do i reverse a list in python' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('SEMANTIC-HIT');
    expect(response.headers.get('cache-status')).toBe('sluice; hit; detail=semantic');
    expect(response.headers.get('x-sluice-similarity')).toMatch(/^\d\.\d{4}$/);
    expect(data.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    expect(cache.stats()).toMatchObject({ hits: 1, semanticHits: 1, misses: 1 });

    // The veto and the per-request controls, as in the gateway.
    const vetoed = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reverse a list in Python 3?' }] })
      .withResponse();
    expect(vetoed.response.headers.get('x-sluice-cache')).toBe('MISS');
    const off = await openai.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reverse a list in python?' }] },
        { headers: { 'x-sluice-semantic': 'off' } },
      )
      .withResponse();
    expect(off.response.headers.get('x-sluice-cache')).toBe('MISS');
    await cache.close();
  });

  it('wrapAnthropic: a semantic stream hit parses like an exact one; invalidate removes candidates', async () => {
    const cache = new ResponseCache({ semantic: { enabled: true } });
    const anthropic = wrapAnthropic(
      new Anthropic({ baseURL: mock.anthropicBaseURL, apiKey: 'sk-ant-lib', maxRetries: 0 }),
      { cache },
    );
    const first = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Name a famous painting.' }],
    });
    await indexed(cache, 0);
    const { data, response } = await anthropic.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'name a famous painting' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('SEMANTIC-HIT');
    const final = await data.finalMessage();
    expect(final.content).toEqual(first.content);
    expect(final.stop_reason).toBe(first.stop_reason);

    expect(semanticRows(cache)).toBe(1);
    await cache.invalidate({ namespace: 'default' });
    expect(semanticRows(cache)).toBe(0);
    await cache.close();
  });

  it('the openai embedder from the options, and shadow mode', async () => {
    const semantic = { enabled: true, embeddingsUrl: mock.openaiBaseURL, shadow: true };
    const cache = new ResponseCache({ semantic });
    const openai = wrapOpenAI(new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-lib', maxRetries: 0 }), { cache });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Describe how tides work' }] });
    await indexed(cache, 0);
    const { response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'explain how tides work' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('MISS');
    expect(response.headers.get('x-sluice-semantic-shadow')).toMatch(/^\d\.\d{4}$/);
    expect(cache.stats()).toMatchObject({ semanticHits: 0, semanticShadowMatches: 1 });
    await cache.close();
  });

  it('rejects bad semantic options by field name', () => {
    expect(() => new ResponseCache({ semantic: { enabled: true, threshold: 2 } })).toThrow(/semantic\.threshold/);
    expect(() => new ResponseCache({ semantic: { enabled: true, maxMessages: 0 } })).toThrow(/semantic\.maxMessages/);
  });
});

describe('library and gateway share semantic candidates through one Redis', () => {
  let redis: RedisHandle;
  let harness: Harness;
  let store: RedisStore;
  let cache: ResponseCache;
  beforeAll(async () => {
    redis = await startRedis();
    harness = await startHarness({ redis: { url: redis.url }, semantic: { enabled: true } });
    store = new RedisStore({ url: redis.url });
    await store.ready();
    cache = new ResponseCache({ store, semantic: { enabled: true } });
  });
  afterAll(async () => {
    await cache?.close();
    await harness?.close();
    await redis?.stop();
  });

  it('an answer the app stored is a semantic hit on the gateway', async () => {
    const openai = wrapOpenAI(
      new OpenAI({ baseURL: harness.mock.openaiBaseURL, apiKey: 'sk-test-tenant-a', maxRetries: 0 }),
      { cache },
    );
    const first = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'What is the longest river in Africa?' }],
    });
    await indexed(cache, 0);
    await sleep(50);
    const { data, response } = await harness
      .openai()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'what is the longest river in africa' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('SEMANTIC-HIT');
    expect(data.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
  });
});
