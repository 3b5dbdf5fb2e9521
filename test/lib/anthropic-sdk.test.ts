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

const request = (content: string) => ({
  model: 'claude-sonnet-4-6',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content }],
});

describe('wrapAnthropic', () => {
  it('messages.create (non-stream): MISS then HIT, equal message', async () => {
    const body = request(prompt('anthropic json'));
    const before = mock.stats.requests;
    const a = await lib.anthropic.messages.create(body);
    const b = await lib.anthropic.messages.create(body);
    expect(mock.stats.requests).toBe(before + 1);
    expect(a.content[0]?.type).toBe('text');
    expect(b).toEqual(a);
  });

  it('messages.create stream: same events on the hit', async () => {
    const body = request(prompt('anthropic stream'));
    const run = async () => {
      const stream = await lib.anthropic.messages.create({ ...body, stream: true });
      const events: unknown[] = [];
      for await (const event of stream) events.push(event);
      return events;
    };
    const before = mock.stats.requests;
    const a = await run();
    const b = await run();
    expect(mock.stats.requests).toBe(before + 1);
    expect(a.length).toBeGreaterThan(3);
    expect(b).toEqual(a);
  });

  it('messages.stream().finalMessage(): same text, tool use, stop reason and usage', async () => {
    const body = {
      ...request(prompt('call a tool')),
      tools: [
        {
          name: 'get_weather',
          description: 'weather',
          input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
        },
      ],
    };
    const run = () =>
      lib.anthropic.messages.stream(body, { headers: { 'x-mock-tool-call': '1' } }).finalMessage();
    const before = mock.stats.requests;
    const a = await run();
    const b = await run();
    expect(mock.stats.requests).toBe(before + 1);
    expect(a.stop_reason).toBe('tool_use');
    expect(a.content.some((block) => block.type === 'tool_use')).toBe(true);
    expect(b).toEqual(a);
  });

  it('a stream recorded by messages.stream answers a later non-stream create', async () => {
    const body = request(prompt('anthropic cross'));
    const before = mock.stats.requests;
    const streamed = await lib.anthropic.messages.stream(body).finalMessage();
    const json = await lib.anthropic.messages.create(body);
    expect(mock.stats.requests).toBe(before + 1);
    expect(json.content).toEqual(streamed.content);
    expect(json.usage.output_tokens).toBe(streamed.usage.output_tokens);
  });
});
