import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, sleep } from './harness.js';

const ADMIN = 'admin-token-for-operator-tests';
const API_KEY = 'sk-operator-secret-key';

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

interface Instance {
  gateway: Gateway;
  url: string;
  lines: Record<string, unknown>[];
  raw: () => string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  admin(path: string): Promise<Response>;
}

/** A gateway whose log lines are captured. */
async function start(config: Record<string, unknown> = {}): Promise<Instance> {
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString();
      done();
    },
  });
  const gateway = createGateway(
    parseConfig({
      port: 0,
      upstream: mock.openaiBaseURL,
      anthropicUpstream: mock.anthropicBaseURL,
      adminToken: ADMIN,
      ...config,
    }),
    { logger: createLogger('info', sink) },
  );
  const url = await gateway.listen();
  return {
    gateway,
    url,
    get lines() {
      return raw
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    raw: () => raw,
    post: (path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    admin: (path) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }),
  };
}

describe('x-sluice-key', () => {
  let g: Instance;
  beforeAll(async () => {
    g = await start();
  });
  afterAll(async () => g.gateway.close());

  test('every cacheable answer names its entry key; the key finds the entry', async () => {
    const body = chatBody('key header', { stream: true });
    const miss = await g.post('/v1/chat/completions', body);
    await miss.text();
    const key = miss.headers.get('x-sluice-key');
    expect(key).toMatch(/^v\d+:[0-9a-f]{64}$/);
    await sleep(30);
    const hit = await g.post('/v1/chat/completions', body);
    await hit.text();
    expect(hit.headers.get('x-sluice-cache')).toBe('HIT');
    expect(hit.headers.get('x-sluice-key')).toBe(key);
    const refresh = await g.post('/v1/chat/completions', body, { 'cache-control': 'no-cache' });
    await refresh.text();
    expect(refresh.headers.get('x-sluice-cache')).toBe('REFRESH');
    expect(refresh.headers.get('x-sluice-key')).toBe(key);
    const inspected = await g.admin(`/admin/entries/${key}`);
    expect(inspected.status).toBe(200);
    expect(await inspected.json()).toMatchObject({ key, format: 'sse', model: 'gpt-4o-mini' });
    // `stream` is not key material: the JSON request shares the entry key (and, since this
    // stream recorded no usage, replaces the entry); a bypassed request has no key.
    const json = await g.post('/v1/chat/completions', chatBody('key header'));
    await json.text();
    expect(json.headers.get('x-sluice-key')).toBe(key);
    const bypass = await g.post('/v1/chat/completions', body, { 'cache-control': 'no-store' });
    await bypass.text();
    expect(bypass.headers.get('x-sluice-cache')).toBe('BYPASS');
    expect(bypass.headers.get('x-sluice-key')).toBeNull();

  });

  test('a coalesced follower gets the same key as its leader', async () => {
    const body = chatBody('coalesced key', { stream: true });
    const knobs = { 'x-mock-delay-ms': '20', 'x-mock-words': '10' };
    const [leader, follower] = await Promise.all([
      g.post('/v1/chat/completions', body, knobs),
      sleep(40).then(() => g.post('/v1/chat/completions', body, knobs)),
    ]);
    await Promise.all([leader.text(), follower.text()]);
    expect(follower.headers.get('x-sluice-cache')).toBe('COALESCED');
    expect(follower.headers.get('x-sluice-key')).toBe(leader.headers.get('x-sluice-key'));
  });
});

describe('GET /admin/entries', () => {
  let g: Instance;
  beforeAll(async () => {
    g = await start();
    const send = async (content: string, headers: Record<string, string>, model = 'gpt-4o-mini') =>
      (await g.post('/v1/chat/completions', { ...chatBody(content), model }, headers)).text();
    await send('team a one', { 'x-sluice-namespace': 'team-a', 'x-sluice-tags': 'rollout' });
    await send('team a two', { 'x-sluice-namespace': 'team-a' }, 'gpt-4.1-mini');
    await send('team a three', { 'x-sluice-namespace': 'team-a', 'x-sluice-tags': 'rollout,eval' });
    await send('team b one', { 'x-sluice-namespace': 'team-b', 'x-sluice-tags': 'rollout' });
    await sleep(50);
  });
  afterAll(async () => g.gateway.close());

  const list = async (query: string) => {
    const res = await g.admin(`/admin/entries${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { entries: Record<string, unknown>[]; next: string | null; store: string };
  };

  test('needs the admin token', async () => {
    const res = await fetch(`${g.url}/admin/entries`);
    expect(res.status).toBe(401);
  });

  test('filters by namespace, tag and model; metadata only', async () => {
    expect((await list('?namespace=team-a')).entries).toHaveLength(3);
    expect((await list('?tag=rollout')).entries).toHaveLength(3);
    expect((await list('?tag=rollout&namespace=team-a')).entries).toHaveLength(2);
    const byModel = await list('?model=gpt-4.1-mini');
    expect(byModel.entries).toHaveLength(1);
    const [entry] = byModel.entries;
    expect(entry).toMatchObject({ namespace: 'team-a', model: 'gpt-4.1-mini', format: 'json' });
    expect(Object.keys(entry as object).sort()).toEqual(
      [
        'bodyBytes',
        'contentType',
        'createdAt',
        'events',
        'expiresInSeconds',
        'format',
        'key',
        'model',
        'namespace',
        'protocol',
        'tags',
        'ttlSeconds',
        // How long the upstream took (for the dashboard's time saved): metadata, not content.
        'upstreamMs',
        'usage',
      ].sort(),
    );
    expect(JSON.stringify(byModel)).not.toContain('team a two');
  });

  test('pages with limit and next until next is null', async () => {
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = await list(`?limit=1${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
      expect(page.entries.length).toBeLessThanOrEqual(1);
      seen.push(...page.entries.map((e) => String(e.key)));
      next = page.next;
    } while (next !== null);
    expect(new Set(seen).size).toBe(4);
    expect(seen).toHaveLength(4);
  });

  test('a bad limit or an unknown parameter is a 400 naming it', async () => {
    for (const [query, word] of [
      ['?limit=0', 'limit'],
      ['?limit=abc', 'limit'],
      ['?namespaec=x', 'namespaec'],
    ] as const) {
      const res = await g.admin(`/admin/entries${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(word);
    }
  });
});

describe('access log', () => {
  test('one info line per request with route, status, cache, bytes, duration, model, namespace, id; no secret, no prompt', async () => {
    const g = await start();
    try {
      const prompt = 'the secret prompt text';
      const body = chatBody(prompt, { stream: true });
      const miss = await g.post('/v1/chat/completions', body, { 'x-request-id': 'req-1', 'x-sluice-namespace': 'ns1' });
      const missText = await miss.text();
      await sleep(30);
      await (await g.post('/v1/chat/completions', body, { 'x-request-id': 'req-2', 'x-sluice-namespace': 'ns1' })).text();
      await (await g.post('/v1/chat/completions', '{not json', { 'x-request-id': 'req-3' })).text();
      await (await fetch(`${g.url}/v1/models?key=query-secret`, { headers: { authorization: `Bearer ${API_KEY}`, 'x-request-id': 'req-4' } })).text();
      await (await g.admin('/admin/stats')).text();
      await (await fetch(`${g.url}/healthz`)).text();
      await sleep(50);

      const access = g.lines.filter((l) => l.access === true);
      expect(access).toHaveLength(6);
      const byId = (id: string) => access.find((l) => l.requestId === id);
      expect(byId('req-1')).toMatchObject({
        level: 30,
        method: 'POST',
        route: '/v1/chat/completions',
        status: 200,
        cache: 'MISS',
        bytes: Buffer.byteLength(missText),
        model: 'gpt-4o-mini',
        upstream: 'openai',
        namespace: 'ns1',
        completed: true,
      });
      expect(byId('req-1')?.key).toMatch(/^v\d+:[0-9a-f]{64}$/);
      expect(typeof byId('req-1')?.durationMs).toBe('number');
      expect(byId('req-2')).toMatchObject({ status: 200, cache: 'HIT', bytes: Buffer.byteLength(missText) });
      expect(byId('req-3')).toMatchObject({ status: 400, route: '/v1/chat/completions' });
      expect(byId('req-4')).toMatchObject({ route: '/v1/models', cache: 'BYPASS' });
      expect(access.find((l) => l.route === '/healthz')).toMatchObject({ status: 200, method: 'GET' });

      const log = g.raw();
      for (const secret of [API_KEY, ADMIN, prompt, 'query-secret']) expect(log).not.toContain(secret);
    } finally {
      await g.gateway.close();
    }
  });

  test('--access-log off writes none', async () => {
    const g = await start({ accessLog: 'off' });
    try {
      await (await g.post('/v1/chat/completions', chatBody('quiet'))).text();
      await (await fetch(`${g.url}/healthz`)).text();
      await sleep(30);
      expect(g.lines.filter((l) => l.access === true)).toEqual([]);
    } finally {
      await g.gateway.close();
    }
  });
});
