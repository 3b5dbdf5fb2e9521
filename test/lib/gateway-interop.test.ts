import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, ResponseCache, wrapAnthropic, wrapOpenAI } from '../../src/index.js';
import { type Harness, startHarness } from '../gateway/harness.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { prompt } from './helpers.js';

/**
 * The promise of the library: an app and a gateway share one Redis, with the same keys and
 * entry format, so an answer recorded by either is a hit for the other.
 */

let redis: RedisHandle;
let harness: Harness;
let store: RedisStore;
let cache: ResponseCache;
let libOpenai: OpenAI;
let libAnthropic: Anthropic;

beforeAll(async () => {
  redis = await startRedis();
  harness = await startHarness({ redis: { url: redis.url } });
  store = new RedisStore({ url: redis.url });
  await store.ready();
  cache = new ResponseCache({ store });
  libOpenai = wrapOpenAI(
    new OpenAI({ baseURL: harness.mock.openaiBaseURL, apiKey: 'sk-test-tenant-a', maxRetries: 0 }),
    { cache },
  );
  libAnthropic = wrapAnthropic(
    new Anthropic({ baseURL: harness.mock.anthropicBaseURL, apiKey: 'sk-ant-test-a', maxRetries: 0 }),
    { cache },
  );
});

afterAll(async () => {
  await cache?.close();
  await harness?.close();
  await redis?.stop();
});

async function streamText(client: OpenAI, content: string) {
  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true })
    .withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
  return { text, cache: response.headers.get('x-sluice-cache') };
}

describe('library and gateway share one Redis', () => {
  it('an OpenAI stream recorded by the library is a HIT at the gateway', async () => {
    const content = prompt('interop lib→gw');
    const before = harness.mock.stats.requests;
    const recorded = await streamText(libOpenai, content);
    expect(recorded.cache).toBe('MISS');
    const viaGateway = await streamText(harness.openai(), content);
    expect(viaGateway.cache).toBe('HIT');
    expect(viaGateway.text).toBe(recorded.text);
    expect(harness.mock.stats.requests).toBe(before + 1);
  });

  it('an answer recorded by the gateway is a HIT in the library', async () => {
    const content = prompt('interop gw→lib');
    const before = harness.mock.stats.requests;
    const recorded = await streamText(harness.openai(), content);
    expect(recorded.cache).toBe('MISS');
    const viaLibrary = await streamText(libOpenai, content);
    expect(viaLibrary.cache).toBe('HIT');
    expect(viaLibrary.text).toBe(recorded.text);
    expect(harness.mock.stats.requests).toBe(before + 1);
  });

  it('Anthropic messages too, and the credential still isolates tenants', async () => {
    const body = {
      model: 'claude-sonnet-4-6',
      max_tokens: 128,
      messages: [{ role: 'user' as const, content: prompt('interop anthropic') }],
    };
    const before = harness.mock.stats.requests;
    const recorded = await libAnthropic.messages.create(body);
    const { data, response } = await harness.anthropic().messages.create(body).withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('HIT');
    expect(data.content).toEqual(recorded.content);
    expect(harness.mock.stats.requests).toBe(before + 1);
    const other = await harness.anthropic({ apiKey: 'sk-ant-other' }).messages.create(body).withResponse();
    expect(other.response.headers.get('x-sluice-cache')).toBe('MISS');
  });

  it('purging a namespace from the library removes gateway entries in it', async () => {
    const content = prompt('interop purge');
    const headers = { 'x-sluice-namespace': 'shared-ns' };
    const gateway = harness.openai({ headers });
    await gateway.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    expect(await cache.invalidate({ namespace: 'shared-ns' })).toBe(1);
  });
});
