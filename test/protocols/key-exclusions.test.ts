import { describe, expect, it } from 'vitest';
import { anthropicMessagesProtocol } from '../../src/protocols/anthropic-messages.js';
import { bedrockConverseProtocol } from '../../src/protocols/bedrock-converse.js';
import { bedrockInvokeProtocol } from '../../src/protocols/bedrock-invoke.js';
import { geminiEmbedProtocol, geminiGenerateProtocol } from '../../src/protocols/gemini.js';
import { KEY_EXCLUSIONS, QUERY_KEY_EXCLUSIONS, withoutExcludedQuery } from '../../src/protocols/key-exclusions.js';
import { openaiChatProtocol } from '../../src/protocols/openai-chat.js';
import { openaiCompletionsProtocol } from '../../src/protocols/openai-completions.js';
import { openaiEmbeddingsProtocol } from '../../src/protocols/openai-embeddings.js';
import { openaiResponsesProtocol } from '../../src/protocols/openai-responses.js';
import type { HttpProtocolName, JsonObject, JsonValue, Protocol, RouteParams } from '../../src/protocols/types.js';
import { validRequest } from './helpers.js';

/**
 * Every entry of KEY_EXCLUSIONS, for every protocol, must leave keyMaterial unchanged; every field
 * not listed there must stay in it. A new exclusion without a value below fails this test on purpose.
 */

const BEDROCK_MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const bedrockRoute = (operation: string): RouteParams => ({
  modelId: BEDROCK_MODEL,
  rawPath: `/model/${encodeURIComponent(BEDROCK_MODEL)}/${operation}`,
  headers: { 'content-type': 'application/json' },
});

const geminiRoute = (operation: string, search = ''): RouteParams => ({
  modelId: 'models/gemini-2.5-flash',
  rawPath: `/v1beta/models/gemini-2.5-flash:${operation}`,
  search,
  headers: {},
});

/** Templated routes add key material from the path (and headers) under ':'-prefixed names. */
const MINIMAL: Record<
  HttpProtocolName,
  { protocol: Protocol; body: JsonObject; route?: RouteParams; routeKey?: JsonObject }
> = {
  'openai.chat': {
    protocol: openaiChatProtocol,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] },
  },
  'openai.completions': {
    protocol: openaiCompletionsProtocol,
    body: { model: 'gpt-3.5-turbo-instruct', prompt: 'Hi' },
  },
  'openai.responses': { protocol: openaiResponsesProtocol, body: { model: 'gpt-4.1', input: 'Hi' } },
  'openai.embeddings': {
    protocol: openaiEmbeddingsProtocol,
    body: { model: 'text-embedding-3-small', input: 'Hi' },
  },
  'anthropic.messages': {
    protocol: anthropicMessagesProtocol,
    body: { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] },
  },
  'bedrock.converse': {
    protocol: bedrockConverseProtocol,
    body: { messages: [{ role: 'user', content: [{ text: 'Hi' }] }] },
    route: bedrockRoute('converse'),
    routeKey: { ':modelId': BEDROCK_MODEL },
  },
  'bedrock.invoke': {
    protocol: bedrockInvokeProtocol,
    body: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] },
    route: bedrockRoute('invoke'),
    routeKey: { ':modelId': BEDROCK_MODEL, ':stream': false, ':headers': { 'content-type': 'application/json' } },
  },
  'gemini.generate': {
    protocol: geminiGenerateProtocol,
    body: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] },
    route: geminiRoute('generateContent'),
    routeKey: { ':version': 'v1beta', ':model': 'models/gemini-2.5-flash' },
  },
  'gemini.json': {
    protocol: geminiEmbedProtocol,
    body: { content: { parts: [{ text: 'Hi' }] } },
    route: geminiRoute('embedContent'),
    routeKey: { ':version': 'v1beta', ':model': 'models/gemini-2.5-flash' },
  },
};

/** A plausible value a client might send for each excluded field. */
const EXCLUDED_VALUES: Record<string, JsonValue> = {
  stream: true,
  stream_options: { include_usage: true },
  user: 'user-8c1f',
  safety_identifier: 'sid-8c1f',
  metadata: { user_id: 'u-1', run: 'nightly' },
  store: true,
  prompt_cache_key: 'tenant-42',
  prompt_cache_retention: '24h',
  requestMetadata: { team: 'search' },
};

const cases = Object.entries(MINIMAL) as Array<[HttpProtocolName, (typeof MINIMAL)[HttpProtocolName]]>;

describe('KEY_EXCLUSIONS', () => {
  it('covers exactly the protocols under test, each object under its own name', () => {
    expect(Object.keys(KEY_EXCLUSIONS).sort()).toEqual(Object.keys(MINIMAL).sort());
    for (const [name, { protocol }] of cases) expect(protocol.name).toBe(name);
  });

  describe.each(cases)('%s', (name, { protocol, body, route, routeKey }) => {
    const base = validRequest(protocol, body, route);
    const baseKey = protocol.keyMaterial(base);

    it('keeps every field of a minimal request', () => {
      expect(baseKey).toEqual({ ...body, ...routeKey });
    });

    it.each(Object.keys(KEY_EXCLUSIONS[name]))('leaves keyMaterial unchanged when `%s` is added', (field) => {
      const value = EXCLUDED_VALUES[field];
      expect(value, `no test value for excluded field ${field}`).toBeDefined();
      const request = { ...base, body: { ...body, [field]: value ?? null } };
      expect(protocol.keyMaterial(request)).toEqual(baseKey);
    });

    it('keeps a field that is not excluded', () => {
      const request = { ...base, body: { ...body, temperature: 0.7 } };
      expect(protocol.keyMaterial(request)).toEqual({ ...baseKey, temperature: 0.7 });
    });

    it('does not modify the request body', () => {
      const withAll = { ...body, ...EXCLUDED_VALUES };
      const snapshot = structuredClone(withAll);
      protocol.keyMaterial({ ...base, body: withAll });
      expect(withAll).toEqual(snapshot);
    });
  });
});

describe('QUERY_KEY_EXCLUSIONS', () => {
  it('drops only the listed parameters, for the listed protocols', () => {
    expect(Object.keys(QUERY_KEY_EXCLUSIONS)).toEqual(['gemini.generate', 'gemini.json']);
    expect(withoutExcludedQuery('gemini.generate', '?alt=sse')).toBe('');
    expect(withoutExcludedQuery('gemini.generate', '?alt=sse&foo=1')).toBe('?foo=1');
    expect(withoutExcludedQuery('gemini.generate', '')).toBe('');
    expect(withoutExcludedQuery('gemini.json', '?alt=json')).toBe('');
    // Any other parameter, and `alt` on any other protocol, stays key material.
    expect(withoutExcludedQuery('openai.chat', '?alt=sse')).toBe('?alt=sse');
  });

  it('excludes alt only as framing: sse and json key alike, any other alt is key material and not cacheable', () => {
    const keyed = (protocol: Protocol, operation: string, search: string) => {
      const request = validRequest(protocol, MINIMAL[protocol.name as HttpProtocolName].body, geminiRoute(operation, search));
      return { material: protocol.keyMaterial(request), cacheability: protocol.cacheability(request) };
    };
    const json = keyed(geminiGenerateProtocol, 'generateContent', '');
    expect(keyed(geminiGenerateProtocol, 'generateContent', '?alt=json')).toEqual(json);
    expect(keyed(geminiGenerateProtocol, 'generateContent', '?alt=sse').material).toEqual(json.material);
    expect(json.cacheability).toEqual({ cacheable: true });
    for (const search of ['?alt=proto', '?alt=media', '?alt=', '?alt=sse&alt=json']) {
      const other = keyed(geminiGenerateProtocol, 'generateContent', search);
      expect(other.material, search).not.toEqual(json.material);
      expect(other.cacheability.cacheable, search).toBe(false);
    }
    // The JSON-only operations read JSON only: `alt=sse` is not theirs either.
    const embed = keyed(geminiEmbedProtocol, 'embedContent', '');
    expect(keyed(geminiEmbedProtocol, 'embedContent', '?alt=json')).toEqual(embed);
    expect(keyed(geminiEmbedProtocol, 'embedContent', '?alt=sse').cacheability.cacheable).toBe(false);
    expect(keyed(geminiEmbedProtocol, 'embedContent', '?alt=proto').material).not.toEqual(embed.material);
  });
});
