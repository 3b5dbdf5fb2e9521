import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Harness } from '../gateway/harness.js';
import { MOCK_AWS_CREDENTIALS } from '../mock-upstream/bedrock-auth.js';
import {
  bedrockClient,
  type CapturingClient,
  collectConverseStream,
  converse,
  converseInput,
  MODEL,
  settle,
  startBedrockHarness,
  WEATHER_TOOL_CONFIG,
} from './helpers.js';

/**
 * The official @aws-sdk/client-bedrock-runtime against the gateway, with its default (HTTP/2)
 * handler and with NodeHttpHandler (HTTP/1.1): each command MISS then HIT, the parsed output equal,
 * and no second upstream call. x-mock-unique makes every upstream answer differ, so an equal
 * second answer can only be a replay.
 */

let h: Harness;
let direct: CapturingClient;
beforeAll(async () => {
  h = await startBedrockHarness();
  direct = bedrockClient({
    endpoint: h.mock.bedrockURL,
    handler: 'http1',
    credentials: MOCK_AWS_CREDENTIALS,
  });
});
afterAll(async () => {
  direct.destroy();
  await h.close();
});

const decoder = new TextDecoder();

describe.each([
  ['default handler (cleartext HTTP/2)', 'default'],
  ['NodeHttpHandler (HTTP/1.1)', 'http1'],
] as const)('%s', (label, handler) => {
  let sdk: CapturingClient;
  beforeAll(() => {
    sdk = bedrockClient({ endpoint: h.url, handler, headers: { 'x-mock-unique': '1' } });
  });
  afterAll(() => sdk.destroy());

  test('ConverseCommand: MISS then HIT with the same text, stop reason and usage', async () => {
    const input = converseInput(`converse ${label}`);
    const first = await converse(sdk.client, input);
    expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    expect(first.text.length).toBeGreaterThan(0);
    await settle();
    const calls = h.mock.stats.requests;
    const second = await converse(sdk.client, input);
    expect(sdk.last()['x-sluice-cache']).toBe('HIT');
    expect(sdk.last()['cache-status']).toMatch(/^sluice; hit; ttl=\d+$/);
    expect(second).toEqual(first);
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('ConverseStreamCommand with a tool call: MISS then HIT, same text, tool use, stop reason, usage', async () => {
    const input = converseInput(`stream tool ${label}`, { toolConfig: WEATHER_TOOL_CONFIG });
    const tool = bedrockClient({
      endpoint: h.url,
      handler,
      headers: { 'x-mock-unique': '1', 'x-mock-tool-call': '1' },
    });
    try {
      const first = await collectConverseStream(tool.client, input);
      expect(tool.last()['x-sluice-cache']).toBe('MISS');
      expect(first.stopReason).toBe('tool_use');
      expect(first.toolUses).toHaveLength(1);
      expect(first.toolUses[0]?.name).toBe('get_weather');
      expect(first.usage.outputTokens).toBeGreaterThan(0);
      await settle();
      const calls = h.mock.stats.requests;
      const second = await collectConverseStream(tool.client, input);
      expect(tool.last()['x-sluice-cache']).toBe('HIT');
      expect(tool.last()['content-type']).toBe('application/vnd.amazon.eventstream');
      expect(second).toEqual(first);
      expect(h.mock.stats.requests).toBe(calls);
    } finally {
      tool.destroy();
    }
  });

  test('InvokeModelCommand (Anthropic on Bedrock): MISS then HIT with the same message', async () => {
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 200,
      messages: [{ role: 'user', content: `invoke ${label}` }],
    });
    const command = () =>
      new InvokeModelCommand({
        modelId: MODEL,
        contentType: 'application/json',
        accept: 'application/json',
        body,
      });
    const first = JSON.parse(decoder.decode((await sdk.client.send(command())).body)) as Record<
      string,
      unknown
    >;
    expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    expect(first.type).toBe('message');
    await settle();
    const calls = h.mock.stats.requests;
    const secondResponse = await sdk.client.send(command());
    const second = JSON.parse(decoder.decode(secondResponse.body)) as Record<string, unknown>;
    expect(sdk.last()['x-sluice-cache']).toBe('HIT');
    expect(secondResponse.contentType).toBe('application/json');
    expect(second).toEqual(first);
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('InvokeModelWithResponseStreamCommand (Anthropic on Bedrock): MISS then HIT, same events', async () => {
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 200,
      messages: [{ role: 'user', content: `invoke stream ${label}` }],
    });
    const collect = async () => {
      const response = await sdk.client.send(
        new InvokeModelWithResponseStreamCommand({ modelId: MODEL, contentType: 'application/json', body }),
      );
      const events: Array<Record<string, unknown>> = [];
      for await (const part of response.body ?? []) {
        if (part.chunk?.bytes)
          events.push(JSON.parse(decoder.decode(part.chunk.bytes)) as Record<string, unknown>);
      }
      return events;
    };
    const first = await collect();
    expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    const text = (events: Array<Record<string, unknown>>) =>
      events
        .map((e) => (e.type === 'content_block_delta' ? ((e.delta as { text?: string }).text ?? '') : ''))
        .join('');
    expect(text(first).length).toBeGreaterThan(0);
    expect(first.at(-1)?.type).toBe('message_stop');
    await settle();
    const calls = h.mock.stats.requests;
    const second = await collect();
    expect(sdk.last()['x-sluice-cache']).toBe('HIT');
    expect(second).toEqual(first);
    const stop = (events: Array<Record<string, unknown>>) => events.find((e) => e.type === 'message_delta');
    expect(stop(second)).toEqual(stop(first));
    expect(h.mock.stats.requests).toBe(calls);
  });
});

describe('cross-format through the SDK', () => {
  let sdk: CapturingClient;
  beforeAll(() => {
    sdk = bedrockClient({ endpoint: h.url, headers: { 'x-mock-unique': '1', 'x-mock-tool-call': '1' } });
  });
  afterAll(() => sdk.destroy());

  test('a converse-stream entry answers ConverseCommand with the assembled answer', async () => {
    const input = converseInput('stream then json', { toolConfig: WEATHER_TOOL_CONFIG });
    const streamed = await collectConverseStream(sdk.client, input);
    expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    await settle();
    const calls = h.mock.stats.requests;
    const json = await converse(sdk.client, input);
    expect(sdk.last()['x-sluice-cache']).toBe('HIT');
    expect(json).toEqual(streamed);
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('a converse entry answers ConverseStreamCommand with synthesized frames the SDK parses to the same answer', async () => {
    const input = converseInput('json then stream', { toolConfig: WEATHER_TOOL_CONFIG });
    const json = await converse(sdk.client, input);
    expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    expect(json.toolUses).toHaveLength(1);
    await settle();
    const calls = h.mock.stats.requests;
    const streamed = await collectConverseStream(sdk.client, input);
    expect(sdk.last()['x-sluice-cache']).toBe('HIT');
    expect(streamed).toEqual(json);
    expect(h.mock.stats.requests).toBe(calls);
  });

  test('the assembled answer equals what the upstream itself answers to ConverseCommand', async () => {
    const input = converseInput('assembled equals direct');
    const plain = bedrockClient({ endpoint: h.url });
    try {
      await collectConverseStream(plain.client, input);
      await settle();
      const viaCache = await converse(plain.client, input);
      expect(plain.last()['x-sluice-cache']).toBe('HIT');
      expect(viaCache).toEqual(await converse(direct.client, input));
    } finally {
      plain.destroy();
    }
  });
});
