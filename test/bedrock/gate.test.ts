import { ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEventStreamDecoder } from '../../src/sse/eventstream.js';
import { type Harness, sleep } from '../gateway/harness.js';
import {
  bedrockClient,
  bedrockPath,
  converseInput,
  LLAMA,
  MODEL,
  settle,
  startBedrockHarness,
} from './helpers.js';

/**
 * What the mock Bedrock can do wrong, and that none of it is ever stored; byte-identical replay,
 * pacing, coalescing and disconnect abort, as for the other protocols. Raw requests with a Bearer
 * key, so the bytes are visible.
 */

let h: Harness;
beforeAll(async () => {
  h = await startBedrockHarness({ cache: { maxEntryBytes: 256 * 1024 } });
});
afterAll(async () => h.close());

const BEARER = { authorization: 'Bearer bedrock-api-key-tenant-a' };

function converseBody(text: string) {
  return { messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: 128 } };
}

async function send(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await h.post(path, body, { ...BEARER, 'x-mock-unique': '1', ...headers });
  let bytes: Buffer;
  let cut = false;
  try {
    bytes = Buffer.from(await res.arrayBuffer());
  } catch {
    bytes = Buffer.alloc(0);
    cut = true;
  }
  return { status: res.status, headers: res.headers, cache: res.headers.get('x-sluice-cache'), bytes, cut };
}

async function metricsText(): Promise<string> {
  return (await fetch(`${h.url}/metrics`)).text();
}

const STREAM = bedrockPath(MODEL, 'converse-stream');

describe('MISS then HIT, byte for byte', () => {
  test('a converse-stream answer is replayed as the recorded frames with the recorded content type', async () => {
    const body = converseBody('bytes identical');
    const first = await send(STREAM, body, { 'x-mock-split': '7' });
    expect(first.cache).toBe('MISS');
    expect(first.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    await settle();
    const calls = h.mock.stats.requests;
    const second = await send(STREAM, body);
    expect(second.cache).toBe('HIT');
    expect(second.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(h.mock.stats.requests).toBe(calls);
    // And every replayed frame passes its CRCs.
    expect(createEventStreamDecoder().feed(second.bytes).length).toBeGreaterThan(3);
  });

  test('x-sluice-replay paces a replayed event-stream: realtime follows the recorded gaps', async () => {
    const body = converseBody('paced replay');
    await send(STREAM, body, { 'x-mock-delay-ms': '25', 'x-mock-words': '6' });
    await settle();
    const instantStart = Date.now();
    const instant = await send(STREAM, body);
    const instantMs = Date.now() - instantStart;
    const realtimeStart = Date.now();
    const realtime = await send(STREAM, body, { 'x-sluice-replay': 'realtime' });
    const realtimeMs = Date.now() - realtimeStart;
    expect(instant.cache).toBe('HIT');
    expect(realtime.cache).toBe('HIT');
    expect(realtime.bytes.equals(instant.bytes)).toBe(true);
    expect(realtimeMs).toBeGreaterThanOrEqual(150);
    expect(realtimeMs).toBeGreaterThan(instantMs);
  });
});

describe('never stored', () => {
  const cases: Array<[string, string, Record<string, string>, string]> = [
    ['throttled (429 ThrottlingException)', STREAM, { 'x-mock-status': '429' }, 'status_429'],
    [
      'a throttlingException frame mid-stream',
      STREAM,
      { 'x-mock-exception': 'throttlingException' },
      'incomplete_stream',
    ],
    [
      'a modelStreamErrorException frame mid-stream',
      STREAM,
      { 'x-mock-error-event': '1' },
      'incomplete_stream',
    ],
    ['a stream truncated before messageStop', STREAM, { 'x-mock-truncate': '3' }, 'incomplete_stream'],
    ['a frame with a corrupt message CRC', STREAM, { 'x-mock-bad-crc': '3' }, 'eventstream_undecodable'],
    ['a reset connection', STREAM, { 'x-mock-reset': '3' }, 'upstream_reset'],
    [
      'an InvokeModel stream of a model family Sluice does not know',
      bedrockPath(LLAMA, 'invoke-with-response-stream'),
      {},
      'unknown_model_family',
    ],
    [
      'an Anthropic InvokeModel stream without message_stop',
      bedrockPath(MODEL, 'invoke-with-response-stream'),
      { 'x-mock-truncate': '2' },
      'incomplete_stream',
    ],
    ['a 500 on converse', bedrockPath(MODEL, 'converse'), { 'x-mock-status': '500' }, 'status_500'],
  ];
  for (const [name, path, knobs, reason] of cases) {
    test(name, async () => {
      const body = path.includes('invoke')
        ? {
            anthropic_version: 'bedrock-2023-05-31',
            max_tokens: 64,
            messages: [{ role: 'user', content: name }],
            prompt: name,
          }
        : converseBody(name);
      const first = await send(path, body, knobs);
      expect(first.cache).toBe('MISS');
      await settle();
      const again = await send(path, body, knobs);
      expect(again.cache).toBe('MISS');
      expect(await metricsText()).toContain(`result="skipped:${reason}"`);
    });
  }

  test('an upstream error reaches the client in Bedrock shape; the SDK raises the exception', async () => {
    const throttled = await send(STREAM, converseBody('throttle shape'), { 'x-mock-status': '429' });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('x-amzn-errortype')).toMatch(/^ThrottlingException/);
    const sdk = bedrockClient({
      endpoint: h.url,
      headers: { 'x-mock-exception': 'throttlingException', 'x-mock-unique': '1' },
    });
    try {
      const response = await sdk.client.send(new ConverseStreamCommand(converseInput('sdk sees exception')));
      const read = async () => {
        for await (const _ of response.stream ?? []) {
          // drain
        }
      };
      await expect(read()).rejects.toMatchObject({ name: 'ThrottlingException' });
    } finally {
      sdk.destroy();
    }
  });

  test('an InvokeModel JSON answer of an unknown family is stored (200, JSON, not an error shape)', async () => {
    const path = bedrockPath(LLAMA, 'invoke');
    const body = { prompt: 'llama json', max_gen_len: 64 };
    const first = await send(path, body);
    await settle();
    const second = await send(path, body);
    expect(second.cache).toBe('HIT');
    expect(second.bytes.equals(first.bytes)).toBe(true);
  });
});

describe('coalescing and disconnect', () => {
  test('identical concurrent converse-stream requests share one upstream call', async () => {
    const body = converseBody('coalesce me');
    const calls = h.mock.stats.requests;
    const [a, b] = await Promise.all([
      send(STREAM, body, { 'x-mock-delay-ms': '15' }),
      sleep(20).then(() => send(STREAM, body, { 'x-mock-delay-ms': '15' })),
    ]);
    expect([a.cache, b.cache].sort()).toEqual(['COALESCED', 'MISS']);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    expect(h.mock.stats.requests).toBe(calls + 1);
  });

  test('a converse request joining a converse-stream flight gets the assembled JSON', async () => {
    const body = converseBody('coalesce across formats');
    const [stream, json] = await Promise.all([
      send(STREAM, body, { 'x-mock-delay-ms': '15' }),
      sleep(20).then(() => send(bedrockPath(MODEL, 'converse'), body, { 'x-mock-delay-ms': '15' })),
    ]);
    expect(stream.cache).toBe('MISS');
    expect(json.cache).toBe('COALESCED');
    const answer = JSON.parse(json.bytes.toString('utf8')) as {
      stopReason: string;
      output: { message: { content: unknown[] } };
    };
    expect(answer.stopReason).toBe('end_turn');
    expect(answer.output.message.content.length).toBe(1);
  });

  test('a client that leaves mid-stream aborts the upstream call, and nothing is stored', async () => {
    const body = converseBody('abandoned');
    const aborted = h.mock.stats.abortedStreams;
    const controller = new AbortController();
    const res = await fetch(`${h.url}${STREAM}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...BEARER,
        'x-mock-delay-ms': '30',
        'x-mock-words': '40',
      },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await sleep(150);
    // The mock saw its client (the gateway) leave before the stream ended.
    expect(h.mock.stats.abortedStreams).toBeGreaterThan(aborted);
    const again = await send(STREAM, body, { 'x-mock-words': '40' });
    expect(again.cache).toBe('MISS');
  });
});
