import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type Harness, sleep, startHarness } from './harness.js';

/** Two gateway replicas, one real redis-server: semantic candidates written on one are found on the other. */

const ADMIN = 'admin-token-semantic-redis';
const chat = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

let mock: MockUpstream;
let redis: RedisHandle;
let probe: Redis;
let a: Harness;
let b: Harness;

beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis();
  probe = new Redis(redis.url);
  const config = { redis: { url: redis.url, timeoutMs: 200 }, semantic: { enabled: true }, adminToken: ADMIN };
  a = await startHarness(config, mock);
  b = await startHarness(config, mock);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  probe?.disconnect();
  await redis?.stop();
  await mock?.close();
});

async function send(h: Harness, content: string, ns: string) {
  const res = await h.post('/v1/chat/completions', chat(content), { 'x-sluice-namespace': ns });
  const json = (await res.json()) as { choices: { message: { content: string } }[] };
  return { cache: res.headers.get('x-sluice-cache'), text: json.choices[0]?.message.content };
}

async function until(condition: () => Promise<boolean> | boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const rowsInRedis = async () => (await probe.keys('sluice:sem:*:r:*')).length;

describe('semantic candidates shared through Redis', () => {
  it('B loads the partition lazily, then follows A’s new rows, and drops them on A’s purge', async () => {
    const ns = 'shared-ns';
    const first = await send(a, 'How do I reverse a list in Python?', ns);
    expect(first.cache).toBe('MISS');
    await until(async () => (await rowsInRedis()) === 1, 'the row in Redis');

    // B never saw this partition: it loads it from Redis, reads the entry from L2, answers.
    const near = await send(b, 'how do i reverse a list in python', ns);
    expect(near).toEqual({ cache: 'SEMANTIC-HIT', text: first.text });
    expect(b.gateway.context.semantic.stats().rows).toBe(1);

    // Now B has the partition loaded: A's next row reaches it through pub/sub.
    const second = await send(a, 'How do I sort a dictionary by value in Python?', ns);
    await until(() => b.gateway.context.semantic.stats().rows === 2, 'B to follow the new row');
    expect(await send(b, 'how do i sort a dictionary by value in python', ns)).toEqual({
      cache: 'SEMANTIC-HIT',
      text: second.text,
    });

    // A purge on A removes the candidates on B too.
    const purged = await fetch(`${a.url}/admin/purge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: ns }),
    });
    expect(purged.status).toBe(200);
    await until(() => b.gateway.context.semantic.stats().rows === 0, 'B to drop the purged rows');
    expect((await send(b, 'How do I reverse a list in Python, please?', ns)).cache).toBe('MISS');
  });

  it('keeps the partition hard across replicas: another tenant on B finds nothing', async () => {
    const ns = 'shared-tenants';
    await send(a, 'What is the capital of Australia?', ns);
    await until(async () => (await rowsInRedis()) >= 1, 'the row in Redis');
    const res = await b.post('/v1/chat/completions', chat('what is the capital of australia'), {
      'x-sluice-namespace': ns,
      authorization: 'Bearer sk-test-tenant-other',
    });
    expect(res.headers.get('x-sluice-cache')).toBe('MISS');
  });
});
