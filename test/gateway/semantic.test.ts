import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, sleep, startHarness } from './harness.js';

/**
 * The semantic layer through the gateway: exact first, then a semantic lookup inside a hard
 * partition, with every guard shown both ways (MISS where it applies, SEMANTIC-HIT where not).
 */

type Body = Record<string, unknown>;
const user = (content: unknown) => ({ role: 'user', content });
const chat = (content: unknown, extra: Body = {}): Body => ({ model: 'gpt-4o-mini', messages: [user(content)], ...extra });

let counter = 0;
/** Each test gets a namespace of its own: namespaces are part of the partition. */
const freshNamespace = () => `sem-${process.pid}-${++counter}`;

async function send(h: Harness, body: Body, ns: string, headers: Record<string, string> = {}) {
  const res = await h.post('/v1/chat/completions', body, { 'x-sluice-namespace': ns, ...headers });
  const json = (await res.json()) as { choices: { message: { content: string } }[] };
  return { res, cache: res.headers.get('x-sluice-cache'), text: json.choices[0]?.message.content, headers: res.headers };
}

/** Store `body` and wait until the layer indexed it (indexing follows the store write). */
async function seed(h: Harness, body: Body, ns: string, headers: Record<string, string> = {}) {
  const before = h.gateway.context.semantic.stats().rows;
  const first = await send(h, body, ns, headers);
  expect(first.cache).toBe('MISS');
  for (let i = 0; i < 100 && h.gateway.context.semantic.stats().rows <= before; i++) await sleep(10);
  return first;
}

/** Wait until the write of an answer that must not be indexed has surely finished. */
async function settle() {
  await sleep(50);
}

describe('semantic layer (lexical embedder)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ semantic: { enabled: true }, adminToken: ADMIN });
  });
  afterAll(async () => h.close());

  it('answers a near-duplicate from the stored entry with the semantic headers', async () => {
    const ns = freshNamespace();
    const first = await seed(h, chat('How do I reverse a list in Python?'), ns);
    const near = await send(h, chat('how do i reverse a list in python'), ns);
    expect(near.cache).toBe('SEMANTIC-HIT');
    expect(near.headers.get('cache-status')).toBe('sluice; hit; detail=semantic');
    expect(near.headers.get('x-sluice-similarity')).toMatch(/^(0\.\d{4}|1\.0000)$/);
    expect(Number(near.headers.get('x-sluice-similarity'))).toBeGreaterThanOrEqual(0.75);
    expect(near.headers.get('age')).toMatch(/^\d+$/);
    expect(near.text).toBe(first.text);
    // The same text again is an exact hit of the stored entry (exact comes first).
    expect((await send(h, chat('How do I reverse a list in Python?'), ns)).cache).toBe('HIT');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/sluice_requests_total\{[^}]*cache="SEMANTIC-HIT"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/sluice_semantic_lookups_total\{result="hit"\} [1-9]/);
  });

  it('an exact hit does not prepare a semantic query (no fingerprint, no text)', async () => {
    const ns = freshNamespace();
    await seed(h, chat('Name three prime numbers below ten'), ns);
    const layer = h.gateway.context.semantic;
    const prepare = vi.spyOn(layer, 'prepare');
    try {
      expect((await send(h, chat('Name three prime numbers below ten'), ns)).cache).toBe('HIT');
      expect(prepare).not.toHaveBeenCalled();
      // An exact miss does prepare one.
      expect((await send(h, chat('Name three even numbers below ten'), ns)).cache).not.toBe('HIT');
      expect(prepare).toHaveBeenCalledTimes(1);
    } finally {
      prepare.mockRestore();
    }
  });

  it('an answer stored by a refresh (cache-control: no-cache) becomes a candidate too', async () => {
    const ns = freshNamespace();
    const before = h.gateway.context.semantic.stats().rows;
    const refreshed = await send(h, chat('What is the capital city of Australia?'), ns, { 'cache-control': 'no-cache' });
    expect(refreshed.cache).toBe('REFRESH');
    for (let i = 0; i < 100 && h.gateway.context.semantic.stats().rows <= before; i++) await sleep(10);
    const near = await send(h, chat('what is the capital city of australia'), ns);
    expect(near.cache).toBe('SEMANTIC-HIT');
    expect(near.text).toBe(refreshed.text);
  });

  it('keeps unrelated prompts apart', async () => {
    const ns = freshNamespace();
    await seed(h, chat('How do I reverse a list in Python?'), ns);
    expect((await send(h, chat('Write a haiku about autumn leaves'), ns)).cache).toBe('MISS');
  });

  it('a long prompt with one content word changed is a MISS, not a false hit', async () => {
    const ns = freshNamespace();
    const tail = 'in a few paragraphs for a high school student, focusing on the main themes';
    await seed(h, chat(`Summarize the plot of Hamlet ${tail}`), ns);
    expect((await send(h, chat(`Summarize the plot of Macbeth ${tail}`), ns)).cache).toBe('MISS');
    // The same words with case, punctuation and a vowel typo changed still answer.
    expect((await send(h, chat(`summarize the plot of hamlet ${tail.replace('paragraphs', 'paragrphs')}!`), ns)).cache).toBe(
      'SEMANTIC-HIT',
    );
  });

  describe('guards: exact-only requests', () => {
    it('non-text parts in the last user message', async () => {
      const image = { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } };
      const ns = freshNamespace();
      await send(h, chat([{ type: 'text', text: 'What is in this picture?' }, image]), ns);
      await settle();
      expect((await send(h, chat([{ type: 'text', text: 'what is in this picture' }, image]), ns)).cache).toBe('MISS');
      const control = freshNamespace();
      await seed(h, chat([{ type: 'text', text: 'What is in this picture?' }]), control);
      expect((await send(h, chat([{ type: 'text', text: 'what is in this picture' }]), control)).cache).toBe('SEMANTIC-HIT');
    });

    it('tool results as the last turn', async () => {
      const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: {} } } }];
      const turn = (result: string) => ({
        model: 'gpt-4o-mini',
        tools,
        messages: [
          user('Weather in Paris?'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: result },
        ],
      });
      const ns = freshNamespace();
      await send(h, turn('Sunny and warm today'), ns);
      await settle();
      expect((await send(h, turn('sunny and warm today!'), ns)).cache).toBe('MISS');
      const control = freshNamespace();
      await seed(h, { model: 'gpt-4o-mini', tools, messages: [user('Sunny and warm today')] }, control);
      expect((await send(h, { model: 'gpt-4o-mini', tools, messages: [user('sunny and warm today!')] }, control)).cache).toBe(
        'SEMANTIC-HIT',
      );
    });

    it('more than semantic.maxMessages messages, the system message included (default 3)', async () => {
      const conversation = (last: string, system: boolean) => ({
        model: 'gpt-4o-mini',
        messages: [
          ...(system ? [{ role: 'system', content: 'Be brief.' }] : []),
          user('Hi'),
          { role: 'assistant', content: 'Hello! How can I help?' },
          user(last),
        ],
      });
      const ns = freshNamespace();
      await send(h, conversation('What is the tallest mountain on Earth?', true), ns);
      await settle();
      expect((await send(h, conversation('what is the tallest mountain on earth', true), ns)).cache).toBe('MISS');
      const control = freshNamespace();
      await seed(h, conversation('What is the tallest mountain on Earth?', false), control);
      expect((await send(h, conversation('what is the tallest mountain on earth', false), control)).cache).toBe('SEMANTIC-HIT');
    });

    it.each([
      ['n > 1', { n: 2 }, { n: 1 }],
      ['logprobs', { logprobs: true }, { logprobs: false }],
    ])('%s', async (_name, guarded, allowed) => {
      const ns = freshNamespace();
      await send(h, chat('Name three primary colors', guarded), ns);
      await settle();
      expect((await send(h, chat('name three primary colors', guarded), ns)).cache).toBe('MISS');
      const control = freshNamespace();
      await seed(h, chat('Name three primary colors', allowed), control);
      expect((await send(h, chat('name three primary colors', allowed), control)).cache).toBe('SEMANTIC-HIT');
    });
  });

  describe('guards: the lexical veto (at a loose threshold, so that wording alone would match)', () => {
    let loose: Harness;
    beforeAll(async () => {
      loose = await startHarness({ semantic: { enabled: true, threshold: 0.5 } });
    });
    afterAll(async () => loose.close());

    it.each([
      ['changed numbers', 'What is 12 × 7?', 'what is 12 × 8', 'what is 12 × 7'],
      ['a changed quoted string', 'Translate "good morning" to French', 'translate "good night" to French', 'translate "good morning" to french'],
      ['a changed URL', 'Summarize https://example.com/a please', 'summarize https://example.com/b please', 'Summarize https://example.com/a, please'],
      ['a changed identifier', 'What does getUserName return?', 'what does getUserId return', 'what does getUserName return'],
      ['a negation', 'Is coffee bad for you?', 'is coffee not bad for you', 'is coffee bad for you'],
    ])('%s', async (_name, stored, vetoed, allowed) => {
      const ns = freshNamespace();
      await seed(loose, chat(stored), ns);
      expect((await send(loose, chat(vetoed), ns)).cache).toBe('MISS');
      expect((await send(loose, chat(allowed), ns)).cache).toBe('SEMANTIC-HIT');
    });
  });

  describe('guards: only naturally stopped answers are indexed', () => {
    it('an answer cut off by max_tokens is an exact entry only', async () => {
      const ns = freshNamespace();
      await send(h, chat('List the planets of the solar system', { max_tokens: 3 }), ns);
      await settle();
      expect((await send(h, chat('list the planets of the solar system', { max_tokens: 3 }), ns)).cache).toBe('MISS');
      expect((await send(h, chat('List the planets of the solar system', { max_tokens: 3 }), ns)).cache).toBe('HIT');
      const control = freshNamespace();
      await seed(h, chat('List the planets of the solar system', { max_tokens: 300 }), control);
      expect((await send(h, chat('list the planets of the solar system', { max_tokens: 300 }), control)).cache).toBe(
        'SEMANTIC-HIT',
      );
    });

    it('an answer with tool calls is an exact entry only', async () => {
      const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
      const ns = freshNamespace();
      const toolCall = { 'x-mock-tool-call': '1' };
      await send(h, chat('Find the opening hours of the museum', { tools }), ns, toolCall);
      await settle();
      expect((await send(h, chat('find the opening hours of the museum', { tools }), ns, toolCall)).cache).toBe('MISS');
    });
  });

  describe('the hard partition', () => {
    it.each([
      ['tenant (credential)', {}, { authorization: 'Bearer sk-test-tenant-b' }],
      ['system prompt', { messages: [{ role: 'system', content: 'Answer in French.' }, user('what is the speed of light')] }, {}],
      ['model', { model: 'gpt-4o' }, {}],
      ['sampling parameters', { temperature: 0.1 }, {}],
    ])('never crosses a different %s', async (_name, patch, headers) => {
      const ns = freshNamespace();
      await seed(h, chat('What is the speed of light?'), ns);
      const other = { ...chat('what is the speed of light'), ...patch };
      expect((await send(h, other, ns, headers)).cache).toBe('MISS');
      expect((await send(h, chat('what is the speed of light'), ns)).cache).toBe('SEMANTIC-HIT');
    });

    it('never crosses a different key header or query string (what the exact key covers, the partition covers)', async () => {
      const ns = freshNamespace();
      await seed(h, chat('What is the speed of light?'), ns);
      expect((await send(h, chat('what is the speed of light'), ns, { 'openai-project': 'proj_other' })).cache).toBe('MISS');
      const viaQuery = await h.post('/v1/chat/completions?api-version=2024-10-21', chat('what is the speed of light'), {
        'x-sluice-namespace': ns,
      });
      expect(viaQuery.headers.get('x-sluice-cache')).toBe('MISS');
      expect((await send(h, chat('What is the speed of light??'), ns)).cache).toBe('SEMANTIC-HIT');
    });

    it('never crosses namespaces', async () => {
      const ns = freshNamespace();
      await seed(h, chat('What is the speed of sound?'), ns);
      expect((await send(h, chat('what is the speed of sound'), freshNamespace())).cache).toBe('MISS');
    });
  });

  describe('per-request controls', () => {
    it('x-sluice-semantic: off skips the lookup', async () => {
      const ns = freshNamespace();
      await seed(h, chat('Recommend a good science fiction book'), ns);
      expect((await send(h, chat('recommend a good science fiction book'), ns, { 'x-sluice-semantic': 'off' })).cache).toBe('MISS');
      expect((await send(h, chat('Recommend a good science fiction book!'), ns)).cache).toBe('SEMANTIC-HIT');
    });

    it('x-sluice-semantic-threshold raises the threshold; a lower one is ignored', async () => {
      const ns = freshNamespace();
      await seed(h, chat('How do I center a div in CSS?'), ns);
      const strict = await send(h, chat('how do I center a div in css please'), ns, { 'x-sluice-semantic-threshold': '0.9999' });
      expect(strict.cache).toBe('MISS');
      const near = await send(h, chat('how do i center a div in CSS'), ns, { 'x-sluice-semantic-threshold': '0.85' });
      expect(near.cache).toBe('SEMANTIC-HIT');
      // Below the configured threshold: a client cannot loosen matching.
      const loose = await send(h, chat('How do I center text in CSS?'), ns, { 'x-sluice-semantic-threshold': '0.1' });
      expect(loose.cache).toBe('MISS');
    });

    it('a malformed semantic header is a 400 in the protocol error shape', async () => {
      const res = await h.post('/v1/chat/completions', chat('x'), { 'x-sluice-semantic-threshold': 'high' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe('x-sluice-semantic-threshold');
    });
  });

  it('serves a stored stream to a JSON request and a stored JSON answer to the SDK as a stream', async () => {
    const ns = freshNamespace();
    const openai = h.openai({ headers: { 'x-sluice-namespace': ns } });
    let streamed = '';
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Explain recursion in one sentence.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    for (let i = 0; i < 100 && h.gateway.context.semantic.stats().rows === 0; i++) await sleep(10);
    await sleep(20);
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'explain recursion in one sentence' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('SEMANTIC-HIT');
    expect(data.choices[0]?.message.content).toBe(streamed);

    const ns2 = freshNamespace();
    const other = h.openai({ headers: { 'x-sluice-namespace': ns2 } });
    const json = await other.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Give me a fun fact about owls.' }],
    });
    await sleep(50);
    const sdkStream = other.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'give me a fun fact about owls' }],
      stream_options: { include_usage: true },
    });
    const final = await sdkStream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(json.choices[0]?.message.content);
    expect(final.choices[0]?.finish_reason).toBe(json.choices[0]?.finish_reason);
    expect(final.usage).toEqual(json.usage);
  });

  it('the Anthropic SDK parses a semantic stream hit like an exact one', async () => {
    const ns = freshNamespace();
    const anthropic = h.anthropic({ headers: { 'x-sluice-namespace': ns } });
    const first = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Name a famous bridge.' }],
    });
    await sleep(50);
    const { data, response } = await anthropic.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'name a famous bridge' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-cache')).toBe('SEMANTIC-HIT');
    const final = await data.finalMessage();
    expect(final.content).toEqual(first.content);
    expect(final.stop_reason).toBe(first.stop_reason);
    expect(final.usage.output_tokens).toBe(first.usage.output_tokens);
  });

  it('purge by key, namespace, tag and all removes semantic candidates', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const purge = (filter: object) =>
      fetch(`${h.url}/admin/purge`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(filter) });
    for (const filter of ['namespace', 'tag', 'all', 'key'] as const) {
      const ns = freshNamespace();
      const first = await seed(h, chat('What rhymes with orange?'), ns, { 'x-sluice-tags': `t-${ns}` });
      const key = await keyOf(h, chat('What rhymes with orange?'), ns);
      const body = { namespace: { namespace: ns }, tag: { tag: `t-${ns}` }, all: { all: true }, key: { key } }[filter];
      const rows = h.gateway.context.semantic.stats().rows;
      expect((await purge(body)).status).toBe(200);
      expect(h.gateway.context.semantic.stats().rows).toBeLessThan(rows);
      expect(first.cache).toBe('MISS');
      expect((await send(h, chat('what rhymes with orange'), ns)).cache).toBe('MISS');
    }
  });
});

const ADMIN = 'admin-token-for-semantic-tests';

/** The exact key of a stored request, derived as the gateway derives it (one function for both). */
async function keyOf(h: Harness, body: Body, ns: string): Promise<string> {
  const { deriveCacheKey } = await import('../../src/cache/key.js');
  const { requestIdentity } = await import('../../src/cache/scope.js');
  const { openaiChatProtocol } = await import('../../src/protocols/index.js');
  const { upstreamPath } = await import('../../src/gateway/upstream.js');
  const check = openaiChatProtocol.validate(body);
  if (!check.ok) throw new Error(check.message);
  const upstream = h.gateway.context.upstreams.openai;
  return deriveCacheKey({
    protocol: 'openai.chat',
    upstream: upstream.identity,
    ...requestIdentity({
      headers: { authorization: 'Bearer sk-test-tenant-a' },
      path: upstreamPath(upstream, '/v1/chat/completions', ''),
      search: '',
      credentialSources: h.gateway.context.credentialSources,
      shareAcrossCredentials: false,
    }),
    namespace: ns,
    material: openaiChatProtocol.keyMaterial(check.request),
  });
}

export { ADMIN };
