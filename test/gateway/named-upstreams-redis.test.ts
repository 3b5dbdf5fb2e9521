import OpenAI from 'openai';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type Harness, sleep, startHarness } from './harness.js';

/**
 * Named upstreams through a shared Redis: a second gateway with the same configuration finds each
 * upstream's entries (its own, never the other's), and purge by upstream on one gateway removes
 * that upstream's entries from Redis, so the other (which never held them in memory) misses.
 */

const ADMIN = 'admin-token-for-named-redis';
let redis: RedisHandle;
let alpha: MockUpstream;
let beta: MockUpstream;
let first: Harness;
let second: Harness;

beforeAll(async () => {
  redis = await startRedis();
  alpha = await startMockUpstream({ answerSalt: 'alpha' });
  beta = await startMockUpstream({ answerSalt: 'beta' });
  const config: Omit<ConfigInput, 'upstream' | 'anthropicUpstream'> = {
    adminToken: ADMIN,
    redis: { url: redis.url },
    upstreams: {
      alpha: { url: alpha.openaiBaseURL, protocol: 'openai' },
      beta: { url: beta.openaiBaseURL, protocol: 'openai' },
    },
  };
  first = await startHarness(config);
  second = await startHarness(config, first.mock);
}, 30_000);
afterAll(async () => {
  await second?.close();
  await first?.close();
  await alpha?.close();
  await beta?.close();
  await redis?.stop();
});

async function ask(h: Harness, name: string, prompt: string) {
  const openai = new OpenAI({ baseURL: `${h.url}/${name}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  const { data, response } = await openai.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })
    .withResponse();
  return { text: data.choices[0]?.message.content ?? '', cache: response.headers.get('x-sluice-cache') };
}

test('each upstream\'s entries are shared through Redis, and purged by upstream for every gateway', async () => {
  const prompt = 'shared through redis';
  const a = await ask(first, 'alpha', prompt);
  const b = await ask(first, 'beta', prompt);
  expect(a.text).not.toBe(b.text);
  await sleep(150);
  expect(await ask(second, 'alpha', prompt)).toEqual({ ...a, cache: 'HIT' });
  expect(await ask(second, 'beta', prompt)).toEqual({ ...b, cache: 'HIT' });

  const other = 'purged through redis';
  await ask(first, 'alpha', other);
  await ask(first, 'beta', other);
  await sleep(150);
  const res = await fetch(`${first.url}/admin/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ upstream: 'alpha' }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { purged: number }).purged).toBeGreaterThanOrEqual(2);
  // The second gateway never held `other` in memory: it reads Redis, where only beta's is left.
  expect((await ask(second, 'alpha', other)).cache).toBe('MISS');
  expect((await ask(second, 'beta', other)).cache).toBe('HIT');
});
