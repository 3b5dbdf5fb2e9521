import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type Harness, sleep, startHarness } from './harness.js';

/** The `openai` embedder end to end (the mock's /v1/embeddings), shadow mode, and an embedder that is down. */

type Body = Record<string, unknown>;
const chat = (content: string): Body => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
let counter = 0;
const freshNamespace = () => `semo-${process.pid}-${++counter}`;

async function send(h: Harness, body: Body, ns: string) {
  const started = Date.now();
  const res = await h.post('/v1/chat/completions', body, { 'x-sluice-namespace': ns });
  const json = (await res.json()) as { choices: { message: { content: string } }[] };
  return {
    status: res.status,
    cache: res.headers.get('x-sluice-cache'),
    headers: res.headers,
    text: json.choices[0]?.message.content,
    ms: Date.now() - started,
  };
}

async function seed(h: Harness, body: Body, ns: string) {
  const before = h.gateway.context.semantic.stats().rows;
  const first = await send(h, body, ns);
  for (let i = 0; i < 100 && h.gateway.context.semantic.stats().rows <= before; i++) await sleep(10);
  return first;
}

async function metric(h: Harness, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const match = text.match(pattern);
  return match ? Number(match[1]) : 0;
}

describe('semantic layer with the openai embedder', () => {
  let mock: MockUpstream;
  let h: Harness;
  let shadow: Harness;
  beforeAll(async () => {
    mock = await startMockUpstream();
    const semantic = { enabled: true, embeddingsUrl: mock.openaiBaseURL, embeddingsApiKey: 'sk-embed' };
    h = await startHarness({ semantic }, mock);
    shadow = await startHarness({ semantic: { ...semantic, shadow: true } }, mock);
  });
  afterAll(async () => {
    await h.close();
    await shadow.close();
    await mock.close();
  });

  it('answers a paraphrase the lexical embedder could not match, with the default 0.95 threshold', async () => {
    const ns = freshNamespace();
    const first = await seed(h, chat('Describe how photosynthesis works'), ns);
    expect(first.cache).toBe('MISS');
    expect(h.gateway.context.semantic.threshold).toBe(0.95);
    const para = await send(h, chat('Please explain how photosynthesis works.'), ns);
    expect(para.cache).toBe('SEMANTIC-HIT');
    expect(para.text).toBe(first.text);
    expect(Number(para.headers.get('x-sluice-similarity'))).toBeGreaterThanOrEqual(0.95);
    // A changed concept is not a paraphrase.
    expect((await send(h, chat('Describe how respiration works'), ns)).cache).toBe('MISS');
  });

  it('an empty or whitespace-only last user text is exact-only (such texts all embed alike)', async () => {
    const ns = freshNamespace();
    await send(h, chat('   '), ns);
    await sleep(50);
    expect((await send(h, chat(' \n\t '), ns)).cache).toBe('MISS');
    // Non-empty texts that carry no concept land just as close: there the guard does not apply.
    await seed(h, chat('please'), ns);
    expect((await send(h, chat('kindly'), ns)).cache).toBe('SEMANTIC-HIT');
  });

  it('shadow mode serves nothing, but says what would have matched and counts it', async () => {
    const ns = freshNamespace();
    const first = await seed(shadow, chat('Describe how a rainbow forms'), ns);
    const before = await metric(shadow, /sluice_semantic_shadow_matches_total (\d+)/);
    const para = await send(shadow, chat('explain how a rainbow forms'), ns);
    expect(para.cache).toBe('MISS');
    expect(para.headers.get('x-sluice-semantic-shadow')).toMatch(/^(0\.9\d{3}|1\.0000)$/);
    expect(para.text).not.toBe(first.text);
    expect(await metric(shadow, /sluice_semantic_shadow_matches_total (\d+)/)).toBe(before + 1);
    const unrelated = await send(shadow, chat('Write a sonnet about the sea'), ns);
    expect(unrelated.headers.get('x-sluice-semantic-shadow')).toBeNull();
  });
});

describe('an embedder that is down: exact-only, counted, never a failed request', () => {
  let mock: MockUpstream;
  let hanging: Server;
  let hangingCalls = 0;
  let refused: Harness;
  let slow: Harness;
  beforeAll(async () => {
    mock = await startMockUpstream();
    hanging = createServer(() => {
      hangingCalls++;
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1`;
    refused = await startHarness({ semantic: { enabled: true, embeddingsUrl: 'http://127.0.0.1:9/v1' } }, mock);
    slow = await startHarness({ semantic: { enabled: true, embeddingsUrl: hangingUrl, embeddingsTimeoutMs: 200 } }, mock);
  });
  afterAll(async () => {
    await refused.close();
    await slow.close();
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
    await mock.close();
  });

  it('a refused connection: the request is answered and the exact cache still works', async () => {
    const ns = freshNamespace();
    const first = await send(refused, chat('Describe how photosynthesis works'), ns);
    expect(first).toMatchObject({ status: 200, cache: 'MISS' });
    await sleep(20);
    expect((await send(refused, chat('Describe how photosynthesis works'), ns)).cache).toBe('HIT');
    expect((await send(refused, chat('explain how photosynthesis works'), ns)).cache).toBe('MISS');
    expect(await metric(refused, /sluice_semantic_embedder_errors_total\{code="EMBEDDER_FAILED"\} (\d+)/)).toBeGreaterThan(0);
    expect(await metric(refused, /sluice_semantic_lookups_total\{result="error"\} (\d+)/)).toBeGreaterThan(0);
  });

  it('a hanging embedder adds at most the embeddings timeout to a miss', async () => {
    const ns = freshNamespace();
    const res = await send(slow, chat('What is the boiling point of water?'), ns);
    expect(res).toMatchObject({ status: 200, cache: 'MISS' });
    expect(res.ms).toBeLessThan(200 + 800);
    expect(await metric(slow, /sluice_semantic_embedder_errors_total\{code="EMBEDDER_TIMEOUT"\} (\d+)/)).toBeGreaterThan(0);
  });

  it('after 5 timeouts in a row the breaker opens: misses stop calling the embedder, and are still answered', async () => {
    const ns = freshNamespace();
    for (let i = 0; i < 5; i++) expect((await send(slow, chat(`Slow question number ${i}?`), ns)).status).toBe(200);
    const calls = hangingCalls;
    for (let i = 0; i < 4; i++) {
      expect(await send(slow, chat(`Question asked while the breaker is open, ${i}?`), ns)).toMatchObject({ status: 200, cache: 'MISS' });
    }
    // At most one probe, should a loaded host take over the breaker's 2 s pause to send these.
    expect(hangingCalls).toBeLessThanOrEqual(calls + 1);
    expect(await metric(slow, /sluice_semantic_embedder_errors_total\{code="EMBEDDER_CIRCUIT_OPEN"\} (\d+)/)).toBeGreaterThanOrEqual(3);
  });
});
