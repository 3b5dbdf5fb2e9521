import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { type ConfigInput, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/gateway/logger.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

export interface Harness {
  mock: MockUpstream;
  gateway: Gateway;
  /** http://127.0.0.1:PORT of the gateway. */
  url: string;
  openai(options?: { apiKey?: string; headers?: Record<string, string> }): OpenAI;
  anthropic(options?: { apiKey?: string; headers?: Record<string, string> }): Anthropic;
  /** The same SDKs pointed straight at the mock, for "same as direct" comparisons. */
  directOpenai(): OpenAI;
  directAnthropic(): Anthropic;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A mock upstream and a gateway in front of it, both on 127.0.0.1 with ports chosen at run time. */
export async function startHarness(
  config: Omit<ConfigInput, 'upstream' | 'anthropicUpstream'> = {},
  mock?: MockUpstream,
): Promise<Harness> {
  const upstream = mock ?? (await startMockUpstream());
  const gateway = createGateway(
    parseConfig({
      logLevel: 'silent',
      ...config,
      port: 0,
      host: '127.0.0.1',
      upstream: upstream.openaiBaseURL,
      anthropicUpstream: upstream.anthropicBaseURL,
      bedrockUpstream: config.bedrockUpstream ?? upstream.bedrockURL,
      geminiUpstream: config.geminiUpstream ?? upstream.geminiBaseURL,
    }),
    { logger: createLogger('silent') },
  );
  const url = await gateway.listen();
  return {
    mock: upstream,
    gateway,
    url,
    openai: (o = {}) =>
      new OpenAI({
        baseURL: `${url}/v1`,
        apiKey: o.apiKey ?? 'sk-test-tenant-a',
        maxRetries: 0,
        defaultHeaders: o.headers,
      }),
    anthropic: (o = {}) =>
      new Anthropic({
        baseURL: url,
        apiKey: o.apiKey ?? 'sk-ant-test-a',
        maxRetries: 0,
        defaultHeaders: o.headers,
      }),
    directOpenai: () =>
      new OpenAI({ baseURL: upstream.openaiBaseURL, apiKey: 'sk-test-tenant-a', maxRetries: 0 }),
    directAnthropic: () =>
      new Anthropic({ baseURL: upstream.anthropicBaseURL, apiKey: 'sk-ant-test-a', maxRetries: 0 }),
    post: (path, body, headers = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-tenant-a', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await gateway.close();
      if (!mock) await upstream.close();
    },
  };
}

export function chatBody<const E extends object = Record<never, never>>(content = 'Say hello', extra?: E) {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }], ...(extra as E) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until a condition holds (the gateway stores entries after the response ended). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error('condition not met in time');
}
