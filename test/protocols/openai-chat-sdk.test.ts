import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openaiChatProtocol as chat } from '../../src/protocols/openai-chat.js';
import type { JsonObject, RequestInfo } from '../../src/protocols/types.js';
import { encodeSse, parseSse, serveSse } from './helpers.js';
import {
  LOGPROB_ENTRIES,
  PARALLEL_TOOL_CALLS,
  PARALLEL_TOOL_CALLS_MESSAGE,
  REFUSAL,
  TEXT_WITH_USAGE,
  TEXT_WITH_USAGE_JSON,
  TWO_CHOICES,
  WITH_LOGPROBS,
} from './openai-chat-fixtures.js';

/**
 * The official SDK is the judge (DESIGN.md rule 7): a stream we synthesize, and a recorded stream
 * we assemble, must give what `client.chat.completions.stream(...).finalChatCompletion()` gives.
 */

async function sdkFinal(sseText: string): Promise<JsonObject> {
  const server = await serveSse(sseText);
  try {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0 });
    const stream = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    return normalize(await stream.finalChatCompletion());
  } finally {
    await server.close();
  }
}

/** The SDK adds `message.parsed: null` (a helper field, not wire data); JSON round-trip drops undefined. */
function normalize(completion: unknown): JsonObject {
  const copy = JSON.parse(JSON.stringify(completion)) as JsonObject;
  for (const choice of copy.choices as JsonObject[]) delete (choice.message as JsonObject).parsed;
  return copy;
}

const request = (wantsStreamUsage: boolean): RequestInfo => ({
  body: {},
  model: 'gpt-4o-mini',
  stream: true,
  wantsStreamUsage,
});

const answerWith = (message: JsonObject, finish: string, logprobs: JsonObject | null = null): JsonObject => ({
  ...TEXT_WITH_USAGE_JSON,
  choices: [{ index: 0, message, logprobs, finish_reason: finish }],
});

describe('openai.chat against the official SDK', () => {
  it.each([
    ['text with usage', TEXT_WITH_USAGE_JSON],
    ['parallel tool calls', answerWith(PARALLEL_TOOL_CALLS_MESSAGE, 'tool_calls')],
    [
      'refusal',
      answerWith(
        { role: 'assistant', content: null, refusal: "I can't help with that.", annotations: [] },
        'stop',
      ),
    ],
    [
      'logprobs',
      answerWith({ role: 'assistant', content: 'Hi there.', refusal: null }, 'stop', {
        content: LOGPROB_ENTRIES,
        refusal: null,
      }),
    ],
  ])('parses a synthesized stream (%s) back to the original answer', async (_name, answer) => {
    const final = await sdkFinal(encodeSse(chat.synthesize(answer, request(true))));
    expect(final).toEqual(answer);
  });

  it('gives the same text and finish reason, without usage, when usage was not asked for', async () => {
    const final = await sdkFinal(encodeSse(chat.synthesize(TEXT_WITH_USAGE_JSON, request(false))));
    const { usage: _usage, ...expected } = TEXT_WITH_USAGE_JSON;
    expect(final).toEqual(expected);
  });

  it.each([
    ['text with usage', TEXT_WITH_USAGE],
    ['parallel tool calls', PARALLEL_TOOL_CALLS],
    ['two choices', TWO_CHOICES],
    ['logprobs', WITH_LOGPROBS],
    ['refusal', REFUSAL],
  ])('agrees with assemble() on a recorded stream (%s)', async (_name, text) => {
    // Known, deliberate difference: the SDK copies the last chunk's `obfuscation` padding into the
    // final object; assemble() drops it because a non-stream answer never has it.
    const { obfuscation: _padding, ...sdk } = await sdkFinal(text);
    expect(sdk).toEqual(chat.assemble(parseSse(text)));
  });
});
