import { describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/cache/circuit-breaker.js';
import type { CacheEntry } from '../../src/cache/entry.js';
import { FailOpenStore, type StoreOperation } from '../../src/cache/fail-open-store.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { type CacheStore, type ListQuery, type PurgeFilter, StoreError } from '../../src/cache/store.js';
import { startRedis } from '../helpers/redis-server.js';
import { jsonEntry } from './entries.js';
import { describeStoreContract } from './store-contract.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeStoreContract('FailOpenStore(RedisStore)', async () => {
  const redis = await startRedis();
  const inner = new RedisStore({ url: redis.url });
  await inner.ready();
  // Generous timeout: the contract is about behaviour when healthy, not about latency.
  const store = new FailOpenStore(inner, { timeoutMs: 1000 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await redis.stop();
    },
  };
});

/** An inner store whose behaviour each test scripts, counting the calls that reach it. */
class ScriptedStore implements CacheStore {
  readonly name = 'scripted';
  calls = 0;
  behaviour: 'ok' | 'hang' | 'slow' | 'fail' | 'corrupt' | 'throw-plain' = 'ok';
  delayMs = 0;
  readonly #memory = new MemoryStore();

  async #act<T>(op: () => Promise<T>): Promise<T> {
    this.calls += 1;
    switch (this.behaviour) {
      case 'ok':
        return op();
      case 'hang':
        return new Promise<T>(() => {});
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        return op();
      case 'fail':
        throw new StoreError('STORE_UNAVAILABLE', 'scripted outage');
      case 'corrupt':
        throw new StoreError('STORE_CORRUPT_ENTRY', 'scripted corruption');
      case 'throw-plain':
        throw new Error('not a StoreError');
    }
  }

  get(key: string) {
    return this.#act(() => this.#memory.get(key));
  }
  set(key: string, entry: CacheEntry) {
    return this.#act(() => this.#memory.set(key, entry));
  }
  purge(filter: PurgeFilter) {
    return this.#act(() => this.#memory.purge(filter));
  }
  list(query: ListQuery) {
    return this.#act(() => this.#memory.list(query));
  }
  async close() {}
}

function observed(inner: CacheStore, options: { timeoutMs?: number; resetAfterMs?: number } = {}) {
  const errors: { op: StoreOperation; code: string }[] = [];
  const transitions: { state: BreakerState; store: string }[] = [];
  const store = new FailOpenStore(inner, {
    timeoutMs: options.timeoutMs ?? 30,
    failureThreshold: 3,
    resetAfterMs: options.resetAfterMs ?? 100,
    onError: (op, err) => errors.push({ op, code: err.code }),
    onStateChange: (state, name) => transitions.push({ state, store: name }),
  });
  return { store, errors, transitions };
}

describe('FailOpenStore', () => {
  it('turns a hanging store into a miss within the timeout', async () => {
    const inner = new ScriptedStore();
    const { store, errors } = observed(inner);
    inner.behaviour = 'hang';
    const started = Date.now();
    expect(await store.get('k')).toBeUndefined();
    expect(await store.set('k', jsonEntry())).toBe(false);
    expect(Date.now() - started).toBeLessThan(2 * 30 + 40);
    expect(errors).toEqual([
      { op: 'get', code: 'STORE_TIMEOUT' },
      { op: 'set', code: 'STORE_TIMEOUT' },
    ]);
    expect(store.name).toBe('scripted');
  });

  it('opens after consecutive failures and stops calling the inner store', async () => {
    const inner = new ScriptedStore();
    const { store, transitions, errors } = observed(inner);
    inner.behaviour = 'fail';
    for (let i = 0; i < 10; i++) expect(await store.get('k')).toBeUndefined();
    expect(inner.calls).toBe(3);
    expect(store.state).toBe('open');
    expect(transitions).toEqual([{ state: 'open', store: 'scripted' }]);
    expect(errors).toHaveLength(3);
  });

  it('probes once after resetAfterMs and closes when the store is back', async () => {
    const inner = new ScriptedStore();
    const { store, transitions } = observed(inner, { resetAfterMs: 50 });
    inner.behaviour = 'fail';
    for (let i = 0; i < 3; i++) await store.get('k');
    inner.behaviour = 'ok';
    await store.set('k', jsonEntry());
    expect(inner.calls).toBe(3);
    await sleep(60);
    await Promise.all([store.get('k'), store.get('k'), store.get('k')]);
    expect(inner.calls).toBe(4); // one probe, the others short-circuited
    expect(store.state).toBe('closed');
    expect(transitions.map((t) => t.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('does not count a corrupt entry as an outage, and wraps foreign errors as STORE_FAILED', async () => {
    const inner = new ScriptedStore();
    const { store, errors } = observed(inner);
    inner.behaviour = 'corrupt';
    for (let i = 0; i < 5; i++) expect(await store.get('k')).toBeUndefined();
    expect(store.state).toBe('closed');
    inner.behaviour = 'throw-plain';
    expect(await store.get('k')).toBeUndefined();
    expect(errors.at(-1)).toEqual({ op: 'get', code: 'STORE_FAILED' });
  });

  it('throws purge failures as StoreError for the admin API, and admin work never feeds the breaker', async () => {
    const inner = new ScriptedStore();
    const { store } = observed(inner);
    inner.behaviour = 'fail';
    // Admin failures, however many, leave the live traffic's breaker closed.
    for (let i = 0; i < 10; i++) {
      await expect(store.purge({ all: true })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.list({ limit: 10 })).rejects.toBeInstanceOf(StoreError);
    }
    expect(store.state).toBe('closed');
    // Live traffic opens it; an admin call still reaches the store (the operator sees the real error).
    for (let i = 0; i < 3; i++) await store.get('k');
    expect(store.state).toBe('open');
    const callsWhileOpen = inner.calls;
    await expect(store.purge({ all: true })).rejects.toBeInstanceOf(StoreError);
    expect(inner.calls).toBe(callsWhileOpen + 1);
  });

  it('gives admin calls their own time limit, not the request budget', async () => {
    const inner = new ScriptedStore();
    const store = new FailOpenStore(inner, { timeoutMs: 20, adminTimeoutMs: 60_000, failureThreshold: 1 });
    inner.behaviour = 'slow';
    inner.delayMs = 150;
    // A live read past 20 ms is a miss; a purge taking 150 ms completes.
    expect(await store.get('k')).toBeUndefined();
    expect(store.state).toBe('open');
    await expect(store.purge({ all: true })).resolves.toBeTypeOf('number');
  });
});

describe('FailOpenStore(RedisStore) through a Redis crash', () => {
  it('never throws, never waits, opens once, then recovers when Redis is back', async () => {
    const redis = await startRedis();
    const inner = new RedisStore({ url: redis.url, commandTimeoutMs: 200 });
    await inner.ready();
    const timeoutMs = 50;
    const transitions: BreakerState[] = [];
    const store = new FailOpenStore(inner, {
      timeoutMs,
      failureThreshold: 3,
      resetAfterMs: 800,
      onStateChange: (state) => transitions.push(state),
    });

    let thrown = 0;
    let slowest = 0;
    let hits = 0;
    const timed = async <T>(call: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await call();
      } finally {
        slowest = Math.max(slowest, performance.now() - started);
      }
    };
    const hammer = async (ms: number, until?: () => boolean) => {
      const end = Date.now() + ms;
      let i = 0;
      while (Date.now() < end && !until?.()) {
        i += 1;
        try {
          await timed(() => store.set(`k${i}`, jsonEntry()));
          if ((await timed(() => store.get(`k${i}`))) !== undefined) hits += 1;
        } catch {
          thrown += 1;
        }
        await sleep(2);
      }
    };

    try {
      await hammer(100);
      expect(hits).toBeGreaterThan(0);

      await redis.kill();
      hits = 0;
      await hammer(400);
      expect(store.state).toBe('open');
      // resetAfterMs (800) is longer than the outage so far: exactly one transition.
      expect(transitions).toEqual(['open']);
      expect(hits).toBe(0);

      await redis.restart();
      await hammer(8000, () => store.state === 'closed' && hits > 0);
      expect(store.state).toBe('closed');
      expect(hits).toBeGreaterThan(0);
      expect(transitions[0]).toBe('open');
      expect(transitions).toContain('half-open');
      expect(transitions.at(-1)).toBe('closed');

      expect(thrown).toBe(0);
      expect(slowest).toBeLessThan(timeoutMs + 40);
    } finally {
      await store.close();
      await redis.stop();
    }
  });
});
