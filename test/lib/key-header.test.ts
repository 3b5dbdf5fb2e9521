import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { prompt, wrappedClients } from './helpers.js';

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

describe('library answers name their entry key, as the gateway does', () => {
  test('MISS and HIT carry the same x-sluice-key; a bypassed call none', async () => {
    const { openai, cache } = wrappedClients(mock);
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: prompt('lib key') }] };
    const first = await openai.chat.completions.create(body).withResponse();
    const key = first.response.headers.get('x-sluice-key');
    expect(first.response.headers.get('x-sluice-cache')).toBe('MISS');
    expect(key).toMatch(/^v\d+:[0-9a-f]{64}$/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await openai.chat.completions.create(body).withResponse();
    expect(second.response.headers.get('x-sluice-cache')).toBe('HIT');
    expect(second.response.headers.get('x-sluice-key')).toBe(key);
    const bypass = await openai.chat.completions
      .create(body, { headers: { 'cache-control': 'no-store' } })
      .withResponse();
    expect(bypass.response.headers.get('x-sluice-cache')).toBe('BYPASS');
    expect(bypass.response.headers.get('x-sluice-key')).toBeNull();
    expect(await cache.invalidate({ key: key as string })).toBe(1);
  });
});
