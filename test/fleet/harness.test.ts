import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chatBody, type Fleet, startFleet } from './harness.js';

/** The fleet harness itself: separate processes, one Redis, a relay that really cuts. */
describe('fleet harness', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 2 });
  }, 90_000);
  afterAll(async () => {
    await fleet?.close();
  });

  test('replicas are separate processes sharing one Redis', async () => {
    const [a, b] = fleet.replicas as [Fleet['replicas'][0], Fleet['replicas'][0]];
    expect(a.pid).not.toBe(b.pid);
    expect(a.pid).not.toBe(process.pid);
    const body = chatBody('harness: shared through Redis');
    const first = await a.post('/v1/chat/completions', body);
    expect(first.headers.get('x-sluice-cache')).toBe('MISS');
    await first.text();
    // The entry is committed to Redis as the answer ends, a moment after the client has it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await b.post('/v1/chat/completions', body);
    await second.text();
    expect(second.headers.get('x-sluice-cache')).toBe('HIT');
    expect(fleet.mock.stats.byPath['/v1/chat/completions']).toBe(1);
  });

  test('a cut relay leaves its replica without Redis and the others with it', async () => {
    const [a, b] = fleet.replicas as [Fleet['replicas'][0], Fleet['replicas'][0]];
    a.redisLink?.cut();
    try {
      const body = chatBody('harness: cut off');
      const fromA = await a.post('/v1/chat/completions', body);
      // Fail open: a replica without Redis still answers.
      expect(fromA.status).toBe(200);
      expect(fromA.headers.get('x-sluice-cache')).toBe('MISS');
      await fromA.text();
      // Its entry never reached Redis, so B calls the upstream too.
      const fromB = await b.post('/v1/chat/completions', body);
      expect(fromB.headers.get('x-sluice-cache')).toBe('MISS');
      await fromB.text();
    } finally {
      a.redisLink?.restore();
    }
  });

  test('SIGKILL ends the gateway process itself', async () => {
    const replica = fleet.replicas[1];
    if (!replica) throw new Error('no second replica');
    const pid = replica.pid;
    await replica.kill('SIGKILL');
    expect(replica.exited).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
    await replica.restart();
    expect(replica.pid).not.toBe(pid);
    const res = await replica.post('/v1/chat/completions', chatBody('harness: after restart'));
    expect(res.status).toBe(200);
    await res.text();
  });
});
