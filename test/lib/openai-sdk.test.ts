import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type LibSetup, prompt, wrappedClients } from './helpers.js';

let mock: MockUpstream;
let lib: LibSetup;

beforeAll(async () => {
  mock = await startMockUpstream();
  lib = wrappedClients(mock);
});
afterAll(async () => {
  await mock.close();
});

const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

/** Runs `call` twice; the second must not reach upstream. Returns both results. */
async function missThenHit<T>(call: () => Promise<T>): Promise<[T, T]> {
  const before = mock.stats.requests;
  const first = await call();
  expect(mock.stats.requests).toBe(before + 1);
  const second = await call();
  expect(mock.stats.requests).toBe(before + 1);
  return [first, second];
}

describe('wrapOpenAI: chat completions', () => {
  it('non-stream: MISS then HIT with the same message, finish reason and usage', async () => {
    const content = prompt('chat json');
    const [a, b] = await missThenHit(() =>
      lib.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
    );
    expect(a.choices[0]?.message.content).toBeTruthy();
    expect(b).toEqual(a);
  });

  it('stream: MISS then HIT, same text, finish reason and usage; headers say where it came from', async () => {
    const content = prompt('chat stream');
    const run = async () => {
      const { data: stream, response } = await lib.openai.chat.completions
        .create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content }],
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      let text = '';
      let finish: string | null | undefined;
      let usage: unknown;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, finish, usage, cache: response.headers.get('x-sluice-cache') };
    };
    const [a, b] = await missThenHit(run);
    expect(a.cache).toBe('MISS');
    expect(b.cache).toBe('HIT');
    expect(a.text.length).toBeGreaterThan(10);
    expect({ ...b, cache: 'x' }).toEqual({ ...a, cache: 'x' });
    expect(a.finish).toBe('stop');
    expect(a.usage).toBeTruthy();
  });

  it('a recorded stream answers the non-stream call with the assembled message', async () => {
    const content = prompt('chat cross');
    const before = mock.stats.requests;
    const stream = await lib.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    const json = await lib.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content }],
    });
    expect(mock.stats.requests).toBe(before + 1);
    expect(json.choices[0]?.message.content).toBe(text);
  });

  it('tool calls survive the replay through the stream() helper and finalChatCompletion()', async () => {
    const content = prompt('call a tool');
    const run = async () => {
      const runner = lib.openai.chat.completions.stream(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], tools: TOOLS },
        { headers: { 'x-mock-tool-call': '1' } },
      );
      return runner.finalChatCompletion();
    };
    const [a, b] = await missThenHit(run);
    expect(a.choices[0]?.message.tool_calls?.[0]).toBeTruthy();
    expect(a.choices[0]?.finish_reason).toBe('tool_calls');
    expect(b.choices[0]?.message).toEqual(a.choices[0]?.message);
    expect(b.choices[0]?.finish_reason).toBe(a.choices[0]?.finish_reason);
  });
});

describe('wrapOpenAI: other endpoints', () => {
  it('legacy completions', async () => {
    const p = prompt('complete this');
    const [a, b] = await missThenHit(() =>
      lib.openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: p }),
    );
    expect(a.choices[0]?.text).toBeTruthy();
    expect(b).toEqual(a);
  });

  it('responses: create (stream) and the stream() helper finalResponse()', async () => {
    const input = prompt('responses');
    const run = async () => {
      const events = await lib.openai.responses.create({ model: 'gpt-4o-mini', input, stream: true });
      let text = '';
      for await (const event of events) if (event.type === 'response.output_text.delta') text += event.delta;
      return text;
    };
    const [a, b] = await missThenHit(run);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toBe(a);
    const before = mock.stats.requests;
    const final = await lib.openai.responses.stream({ model: 'gpt-4o-mini', input }).finalResponse();
    expect(mock.stats.requests).toBe(before);
    expect(final.output_text).toBe(a);
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('embeddings', async () => {
    const input = prompt('embed me');
    const [a, b] = await missThenHit(() =>
      lib.openai.embeddings.create({ model: 'text-embedding-3-small', input }),
    );
    expect(a.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});

describe('wrapOpenAI: per-call controls', () => {
  it('no-store never reads nor writes; x-sluice-* headers never reach upstream', async () => {
    const content = prompt('no-store');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] };
    const opts = { headers: { 'cache-control': 'no-store', 'x-sluice-tags': 'a' } };
    const before = mock.stats.requests;
    await lib.openai.chat.completions.create(body, opts);
    const headers = mock.stats.lastRequest?.headers ?? {};
    expect(Object.keys(headers).filter((h) => h.startsWith('x-sluice-'))).toEqual([]);
    await lib.openai.chat.completions.create(body);
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('no-cache refreshes; namespace separates entries; tags purge them', async () => {
    const content = prompt('controls');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] };
    const before = mock.stats.requests;
    await lib.openai.chat.completions.create(body, { headers: { 'x-sluice-tags': 'team-a' } });
    await lib.openai.chat.completions.create(body, { headers: { 'cache-control': 'no-cache' } });
    expect(mock.stats.requests).toBe(before + 2);
    await lib.openai.chat.completions.create(body, { headers: { 'x-sluice-namespace': 'other' } });
    expect(mock.stats.requests).toBe(before + 3);
    await lib.openai.chat.completions.create(body, { headers: { 'x-sluice-namespace': 'other' } });
    expect(mock.stats.requests).toBe(before + 3);
    expect(await lib.cache.invalidate({ namespace: 'other' })).toBe(1);
    await lib.openai.chat.completions.create(body, { headers: { 'x-sluice-namespace': 'other' } });
    expect(mock.stats.requests).toBe(before + 4);
  });

  it('a bad control header is a 400 the SDK raises, naming the header', async () => {
    const call = lib.openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-sluice-ttl': 'soon' } },
    );
    await expect(call).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('x-sluice-ttl'),
    });
  });

  it('different API keys do not share entries unless shareAcrossCredentials', async () => {
    const content = prompt('tenants');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] };
    const before = mock.stats.requests;
    await lib.openai.chat.completions.create(body);
    await lib.openai.withOptions({ apiKey: 'sk-other-tenant' }).chat.completions.create(body);
    expect(mock.stats.requests).toBe(before + 2);
  });
});

describe('wrapOpenAI: replay pacing', () => {
  it('x-sluice-replay: realtime replays with the recorded gaps; instant does not wait', async () => {
    const content = prompt('paced');
    const body = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user' as const, content }],
      stream: true as const,
    };
    const timed = async (headers: Record<string, string>) => {
      const started = performance.now();
      const stream = await lib.openai.chat.completions.create(body, { headers });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return { ms: performance.now() - started, text };
    };
    const before = mock.stats.requests;
    const original = await timed({ 'x-mock-delay-ms': '15', 'x-mock-words': '10' });
    expect(original.ms).toBeGreaterThanOrEqual(120);
    const realtime = await timed({ 'x-sluice-replay': 'realtime' });
    const instant = await timed({});
    expect(realtime.text).toBe(original.text);
    expect(realtime.ms).toBeGreaterThanOrEqual(100);
    expect(instant.ms).toBeLessThan(60);
    expect(mock.stats.requests).toBe(before + 1);
  });
});
