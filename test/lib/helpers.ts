import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ResponseCache, type ResponseCacheOptions, wrapAnthropic, wrapOpenAI } from '../../src/index.js';
import type { MockUpstream } from '../mock-upstream/index.js';

export interface LibSetup {
  cache: ResponseCache;
  openai: OpenAI;
  anthropic: Anthropic;
}

/** A cache and both SDKs, wrapped, pointed at the mock upstream. */
export function wrappedClients(mock: MockUpstream, options: ResponseCacheOptions = {}): LibSetup {
  const cache = new ResponseCache(options);
  const openai = wrapOpenAI(
    new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-lib-test', maxRetries: 0 }),
    {
      cache,
    },
  );
  const anthropic = wrapAnthropic(
    new Anthropic({ baseURL: mock.anthropicBaseURL, apiKey: 'sk-ant-lib-test', maxRetries: 0 }),
    { cache },
  );
  return { cache, openai, anthropic };
}

/** Unique prompts per test so tests sharing a mock never share entries by accident. */
let counter = 0;
export function prompt(label: string): string {
  counter++;
  return `${label} #${counter} ${process.pid}`;
}
