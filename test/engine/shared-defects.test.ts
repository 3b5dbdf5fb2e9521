import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { ADAPTERS } from './adapters.js';

/**
 * The defects of issue 10 where the gateway and the library share the behaviour: each test
 * body runs against both adapters. Each failed on the main branch before the engine (see
 * /work/notes/issue-10.md for which adapter failed how).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let mock: MockUpstream;
let redis: RedisHandle;
let counter = 0;
const messages = (label: string) => [{ role: 'user' as const, content: `${label} #${++counter} ${process.pid}` }];
const MODEL = 'gpt-4o-mini';

beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await mock?.close();
});

/** Every command on the Redis waits `ms` (what a slow or stalled Redis looks like to a client). */
async function pauseRedis(ms: number): Promise<void> {
  const admin = new Redis(redis.url);
  try {
    await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL');
  } finally {
    admin.disconnect();
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

for (const adapter of ADAPTERS) {
  describe(`shared request path: ${adapter.name}`, () => {
    it('defect 1: a caller that leaves while the lookup is slow never reaches the upstream', async () => {
      const s = await adapter.start(mock, { redisUrl: redis.url, storeTimeoutMs: 3000 });
      try {
        const before = mock.stats.requests;
        await pauseRedis(700);
        const controller = new AbortController();
        const call = s
          .openai()
          .chat.completions.create({ model: MODEL, messages: messages('leaves early'), stream: true }, { signal: controller.signal })
          .then(drain);
        await sleep(100);
        controller.abort();
        await expect(call).rejects.toThrow();
        // Past the slow lookup: the abandoned call must not have gone upstream afterwards.
        await sleep(1200);
        expect(mock.stats.requests - before).toBe(0);
      } finally {
        await s.close();
      }
    });

    it('defect 2: a store that stalls is a miss within its time bound, not a hanging call', async () => {
      // The default bound (50 ms): the gateway's redis.timeoutMs, the library's storeTimeoutMs.
      const s = await adapter.start(mock, { redisUrl: redis.url });
      try {
        await pauseRedis(3000);
        const started = performance.now();
        const answer = await s.openai().chat.completions.create({ model: MODEL, messages: messages('stalled store') });
        expect(answer.choices[0]?.message.content).toBeTruthy();
        expect(performance.now() - started).toBeLessThan(1500);
      } finally {
        await s.close();
      }
    });

    it('defect 3: a follower of a leader that fails receives its failure, counted once', async () => {
      const s = await adapter.start(mock);
      try {
        const msgs = messages('leader fails');
        const before = mock.stats.requests;
        const leader = s
          .openai()
          .chat.completions.create(
            { model: MODEL, messages: msgs, stream: true },
            { headers: { 'x-mock-delay-ms': '30', 'x-mock-reset': '8' } },
          )
          .then(drain);
        leader.catch(() => undefined);
        await sleep(120);
        // A JSON call with the same key: it converts the leader's answer, so it must wait for it.
        const follower = s.openai().chat.completions.create({ model: MODEL, messages: msgs });
        follower.catch(() => undefined);
        await expect(leader).rejects.toThrow();
        await expect(follower).rejects.toThrow();
        expect(mock.stats.requests - before).toBe(1);
        expect(await s.counts()).toEqual({ miss: 1, coalesced: 1 });
      } finally {
        await s.close();
      }
    });

    it('defect 4: a stalled upstream fails the call once the idle limit passes', async () => {
      const s = await adapter.start(mock, { limits: { idleTimeoutMs: 300 } });
      try {
        const started = performance.now();
        const call = s
          .openai()
          .chat.completions.create(
            { model: MODEL, messages: messages('hangs'), stream: true },
            { headers: { 'x-mock-hang': '1' } },
          )
          .then(drain);
        await expect(call).rejects.toThrow();
        const elapsed = performance.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(250);
        expect(elapsed).toBeLessThan(2000);
      } finally {
        await s.close();
      }
    });

    it('defect 4: x-sluice-ttl is bounded by maxTtlSeconds', async () => {
      const s = await adapter.start(mock, { ttlSeconds: 30, maxTtlSeconds: 60 });
      try {
        const body = { model: MODEL, messages: messages('ttl clamp') };
        await s.openai().chat.completions.create(body, { headers: { 'x-sluice-ttl': '86400' } });
        const { response } = await s.openai().chat.completions.create(body).withResponse();
        expect(response.headers.get('x-sluice-cache')).toBe('HIT');
        const ttl = Number(/ttl=(\d+)/.exec(response.headers.get('cache-status') ?? '')?.[1]);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60);
      } finally {
        await s.close();
      }
    });

    it('defect 4: followers per key are bounded by maxFollowers', async () => {
      const s = await adapter.start(mock, { maxFollowers: 1 });
      try {
        const body = { model: MODEL, messages: messages('bounded followers'), stream: true as const };
        const before = mock.stats.requests;
        const calls: Promise<number>[] = [];
        for (let i = 0; i < 3; i++) {
          calls.push(s.openai().chat.completions.create(body, { headers: { 'x-mock-delay-ms': '20' } }).then(drain));
          await sleep(40);
        }
        const counts = await Promise.all(calls);
        expect(new Set(counts).size).toBe(1);
        // One leader with one follower, then a call of its own for the third.
        expect(mock.stats.requests - before).toBe(2);
      } finally {
        await s.close();
      }
    });
  });
}
