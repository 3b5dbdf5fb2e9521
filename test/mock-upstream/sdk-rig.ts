import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type MockUpstream, startMockUpstream } from './index.js';

/** Shared by the mock's own test files: one mock per file, official SDK clients pointed straight at it. */

export const CHAT = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user' as const, content: 'Say something nice.' }],
};
export const MESSAGES = {
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'Hello!' }],
};
export const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        unit: { type: 'string', enum: ['c', 'f'] },
      },
      required: ['city'],
    },
  },
};

export class SdkRig {
  #mock: MockUpstream | undefined;
  #openai: OpenAI | undefined;
  #anthropic: Anthropic | undefined;

  async start(): Promise<void> {
    const mock = await startMockUpstream();
    this.#mock = mock;
    // No retries: a test must see the mock's first answer, errors included.
    this.#openai = new OpenAI({ apiKey: 'sk-test-openai', baseURL: mock.openaiBaseURL, maxRetries: 0 });
    this.#anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: mock.anthropicBaseURL, maxRetries: 0 });
  }

  get mock(): MockUpstream {
    if (!this.#mock) throw new Error('SdkRig used before start()');
    return this.#mock;
  }

  get openai(): OpenAI {
    if (!this.#openai) throw new Error('SdkRig used before start()');
    return this.#openai;
  }

  get anthropic(): Anthropic {
    if (!this.#anthropic) throw new Error('SdkRig used before start()');
    return this.#anthropic;
  }

  /** A plain POST, for looking at the bytes the SDKs would hide. */
  rawPost(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    return fetch(`${this.mock.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
    });
  }

  /** Stream CHAT with include_usage through the openai SDK and collect what a client would keep. */
  async collectChat(headers: Record<string, string> = {}) {
    const stream = await this.openai.chat.completions.create(
      { ...CHAT, stream: true, stream_options: { include_usage: true } },
      { headers },
    );
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    return { text, finish, usage };
  }
}

/** Registers the hooks: a fresh mock for the file, stats reset before each test. */
export function useSdkRig(): SdkRig {
  const rig = new SdkRig();
  beforeAll(() => rig.start());
  afterAll(() => rig.mock.close());
  beforeEach(() => rig.mock.resetStats());
  return rig;
}
