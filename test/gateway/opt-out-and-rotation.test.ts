import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ResponseCache } from '../../src/index.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream/index.js';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

/**
 * README "Sampling": a route or a namespace opted out of the cache in config, and key rotation
 * (cache.tenants): a new key keeps its tenant's entries. Gateway and library.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
let counter = 0;
const unique = (label: string) => `${label} ${process.pid} ${Date.now()} #${++counter}`;

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

/** Sends until the answer is a HIT (the entry is written after the answer ends), or gives up. */
async function outcomeAfterWrite(send: () => Promise<string | null>): Promise<string | null> {
  let outcome = await send();
  for (let i = 0; i < 25 && outcome !== 'HIT'; i++) {
    await sleep(20);
    outcome = await send();
  }
  return outcome;
}

describe('gateway: opting a namespace or a route out in config', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      { cache: { namespaceModes: { evals: 'off', pinned: 'on' }, routeModes: { '/v1/completions': 'off' } } },
      mock,
    );
  });
  afterAll(async () => h.close());

  const status = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await h.post(path, body, headers);
    await res.text();
    expect(res.status).toBe(200);
    return res.headers.get('x-sluice-cache');
  };

  test('a namespace whose mode is off is never cached; another namespace is', async () => {
    const body = chatBody(unique('evals namespace'));
    expect(await status('/v1/chat/completions', body, { 'x-sluice-namespace': 'evals' })).toBe('BYPASS');
    await sleep(50);
    expect(await status('/v1/chat/completions', body, { 'x-sluice-namespace': 'evals' })).toBe('BYPASS');
    const other = chatBody(unique('default namespace'));
    expect(await status('/v1/chat/completions', other)).toBe('MISS');
    expect(await outcomeAfterWrite(() => status('/v1/chat/completions', other))).toBe('HIT');
  });

  test('a route whose mode is off is never cached; a namespace set on wins over it', async () => {
    const body = { model: 'gpt-3.5-turbo-instruct', prompt: unique('completions route') };
    expect(await status('/v1/completions', body)).toBe('BYPASS');
    await sleep(50);
    expect(await status('/v1/completions', body)).toBe('BYPASS');
    const pinned = { model: 'gpt-3.5-turbo-instruct', prompt: unique('pinned') };
    expect(await status('/v1/completions', pinned, { 'x-sluice-namespace': 'pinned' })).toBe('MISS');
    expect(await outcomeAfterWrite(() => status('/v1/completions', pinned, { 'x-sluice-namespace': 'pinned' }))).toBe(
      'HIT',
    );
  });

  test('a bad override is refused at start, naming the field', async () => {
    await expect(startHarness({ cache: { namespaceModes: { evals: 'sometimes' as 'off' } } }, mock)).rejects.toThrow(
      /cache\.namespaceModes\.evals/,
    );
  });
});

describe('gateway: a route of a named upstream has its own mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      {
        upstreams: {
          groq: { url: mock.openaiBaseURL, protocol: 'openai' },
          vllm: { url: mock.openaiBaseURL, protocol: 'openai' },
        },
        cache: {
          routeModes: {
            // The named upstream's route only; the same route at the root and under vllm stays cached.
            '/groq/v1/chat/completions': 'off',
            // A bare route applies under every upstream, unless a named route says otherwise.
            '/v1/completions': 'off',
            '/vllm/v1/completions': 'on',
          },
        },
      },
      mock,
    );
  });
  afterAll(async () => h.close());

  const status = async (path: string, body: unknown) => {
    const res = await h.post(path, body);
    await res.text();
    expect(res.status).toBe(200);
    return res.headers.get('x-sluice-cache');
  };

  test('/groq/v1/chat/completions: off bypasses that route of groq only', async () => {
    const body = chatBody(unique('named route mode'));
    expect(await status('/groq/v1/chat/completions', body)).toBe('BYPASS');
    await sleep(50);
    expect(await status('/groq/v1/chat/completions', body)).toBe('BYPASS');
    for (const path of ['/v1/chat/completions', '/vllm/v1/chat/completions']) {
      expect(await status(path, body)).toBe('MISS');
      expect(await outcomeAfterWrite(() => status(path, body))).toBe('HIT');
    }
  });

  test('a route under a name that is no upstream is refused at start, naming it', async () => {
    const upstreams = { groq: { url: mock.openaiBaseURL, protocol: 'openai' as const } };
    await expect(startHarness({ upstreams, cache: { routeModes: { '/grok/v1/chat/completions': 'off' } } }, mock)).rejects.toThrow(
      /cache\.routeModes.*\/grok\/v1\/chat\/completions[\s\S]*\/grok/,
    );
    // Sluice's own routes (OpenAI, Bedrock, Gemini templates) and configured names are accepted.
    const ok = await startHarness(
      {
        upstreams,
        cache: {
          routeModes: {
            '/groq/v1/chat/completions': 'off',
            '/model/{modelId}/converse': 'off',
            '/{version}/{model}:generateContent': 'read-only',
          },
        },
      },
      mock,
    );
    await ok.close();
  });

  test('a bare route applies under every upstream; a named route wins over it', async () => {
    const body = { model: 'gpt-3.5-turbo-instruct', prompt: unique('bare route mode') };
    expect(await status('/v1/completions', body)).toBe('BYPASS');
    expect(await status('/groq/v1/completions', body)).toBe('BYPASS');
    expect(await status('/vllm/v1/completions', body)).toBe('MISS');
    expect(await outcomeAfterWrite(() => status('/vllm/v1/completions', body))).toBe('HIT');
  });
});

describe('key rotation: cache.tenants keeps one scope across keys', () => {
  const oldKey = 'sk-acme-old-key';
  const newKey = 'sk-acme-new-key';
  const tenants = { acme: [sha256(oldKey), sha256(newKey)] };

  test('gateway: the new key reads what the old one stored; an unlisted key does not', async () => {
    const h = await startHarness({ cache: { tenants } }, mock);
    try {
      const body = chatBody(unique('rotation gateway'));
      const send = async (key: string) => {
        const res = await h.post('/v1/chat/completions', body, { authorization: `Bearer ${key}` });
        await res.text();
        return res.headers.get('x-sluice-cache');
      };
      expect(await send(oldKey)).toBe('MISS');
      expect(await outcomeAfterWrite(() => send(oldKey))).toBe('HIT');
      expect(await send(newKey)).toBe('HIT');
      expect(await send('sk-someone-else')).toBe('MISS');
      // Rotation does not merge sources: the same tenant key with a different ?key= is another scope.
      const res = await fetch(`${h.url}/v1/chat/completions?key=other`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${newKey}` },
        body: JSON.stringify(body),
      });
      await res.text();
      expect(res.headers.get('x-sluice-cache')).toBe('MISS');
    } finally {
      await h.gateway.close();
    }
  });

  test('gateway: without the mapping, the new key is a new tenant (what rotation costs by default)', async () => {
    const h = await startHarness({}, mock);
    try {
      const body = chatBody(unique('rotation default'));
      const send = async (key: string) => {
        const res = await h.post('/v1/chat/completions', body, { authorization: `Bearer ${key}` });
        await res.text();
        return res.headers.get('x-sluice-cache');
      };
      expect(await send(oldKey)).toBe('MISS');
      expect(await outcomeAfterWrite(() => send(oldKey))).toBe('HIT');
      expect(await send(newKey)).toBe('MISS');
    } finally {
      await h.gateway.close();
    }
  });

  test('library: the same option, the same scope', async () => {
    const cache = new ResponseCache({ tenants });
    const fetchFn = cache.fetchFor('openai', mock.openaiBaseURL);
    const body = JSON.stringify(chatBody(unique('rotation library')));
    const send = async (key: string) => {
      const res = await fetchFn(`${mock.openaiBaseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body,
      });
      await res.text();
      return res.headers.get('x-sluice-cache');
    };
    expect(await send(oldKey)).toBe('MISS');
    expect(await send(newKey)).toBe('HIT');
    expect(await send('sk-someone-else')).toBe('MISS');
    await cache.close();
  });

  test('a hash listed for two tenants, or not a SHA-256, is refused', () => {
    expect(() => new ResponseCache({ tenants: { a: [sha256('k')], b: [sha256('k')] } })).toThrow(/one tenant/);
    expect(() => new ResponseCache({ tenants: { a: ['sk-plain-key'] } })).toThrow(/SHA-256/);
  });
});
