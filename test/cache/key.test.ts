import { describe, expect, test } from 'vitest';
import { canonicalJson, credentialScope, deriveCacheKey } from '../../src/cache/key.js';
import { protocolByName } from '../../src/protocols/index.js';
import type { HttpProtocolName, JsonObject, JsonValue } from '../../src/protocols/types.js';

function keyFor(
  protocolName: HttpProtocolName,
  body: JsonObject,
  scope = 'cred:a',
  namespace = 'default',
  upstream = 'https://api.openai.com/v1',
) {
  const protocol = protocolByName(protocolName);
  const check = protocol.validate(body);
  if (!check.ok) throw new Error(`invalid test body: ${check.message}`);
  return deriveCacheKey({
    protocol: protocolName,
    upstream,
    scope,
    namespace,
    target: { path: '/v1/chat/completions', query: [], headers: {} },
    material: protocol.keyMaterial(check.request),
  });
}

const chatBase: JsonObject = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] };

/** Every field that can change a chat answer, with a value different from its absence. */
const chatFields: Record<string, JsonObject> = {
  model: { model: 'gpt-4o' },
  messages: { messages: [{ role: 'user', content: 'hello!' }] },
  system_message: {
    messages: [
      { role: 'system', content: 'be terse' },
      { role: 'user', content: 'hello' },
    ],
  },
  tools: { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] },
  tool_choice: { tool_choice: 'required' },
  parallel_tool_calls: { parallel_tool_calls: false },
  temperature: { temperature: 0.2 },
  top_p: { top_p: 0.5 },
  max_tokens: { max_tokens: 10 },
  max_completion_tokens: { max_completion_tokens: 10 },
  response_format: { response_format: { type: 'json_object' } },
  seed: { seed: 7 },
  n: { n: 2 },
  stop: { stop: ['\n'] },
  logprobs: { logprobs: true },
  top_logprobs: { logprobs: true, top_logprobs: 2 },
  presence_penalty: { presence_penalty: 0.5 },
  frequency_penalty: { frequency_penalty: 0.5 },
  logit_bias: { logit_bias: { '50256': -100 } },
  reasoning_effort: { reasoning_effort: 'low' },
  modalities: { modalities: ['text'] },
  prediction: { prediction: { type: 'content', content: 'x' } },
  web_search_options: { web_search_options: {} },
  verbosity: { verbosity: 'low' },
};

describe('the key changes with every field that can change the answer', () => {
  const base = keyFor('openai.chat', chatBase);
  for (const [field, patch] of Object.entries(chatFields)) {
    test(`openai.chat: ${field}`, () => {
      expect(keyFor('openai.chat', { ...chatBase, ...patch })).not.toBe(base);
    });
  }

  const anthropicBase: JsonObject = {
    model: 'claude-sonnet-4-6',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'hi' }],
  };
  const anthropicFields: Record<string, JsonObject> = {
    model: { model: 'claude-haiku-4-5' },
    system: { system: 'be terse' },
    max_tokens: { max_tokens: 101 },
    messages: { messages: [{ role: 'user', content: 'hi!' }] },
    tools: { tools: [{ name: 'f', input_schema: { type: 'object' } }] },
    tool_choice: { tool_choice: { type: 'any' } },
    temperature: { temperature: 0 },
    top_p: { top_p: 0.9 },
    top_k: { top_k: 5 },
    stop_sequences: { stop_sequences: ['END'] },
    thinking: { thinking: { type: 'enabled', budget_tokens: 1024 } },
  };
  const anthropicKey = keyFor('anthropic.messages', anthropicBase);
  for (const [field, patch] of Object.entries(anthropicFields)) {
    test(`anthropic.messages: ${field}`, () => {
      expect(keyFor('anthropic.messages', { ...anthropicBase, ...patch })).not.toBe(anthropicKey);
    });
  }

  const responsesBase: JsonObject = { model: 'gpt-4o-mini', input: 'hi' };
  const responsesFields: Record<string, JsonObject> = {
    input: { input: 'hi!' },
    instructions: { instructions: 'be terse' },
    tools: { tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }] },
    temperature: { temperature: 0.1 },
    max_output_tokens: { max_output_tokens: 5 },
    text: { text: { format: { type: 'json_object' } } },
    reasoning: { reasoning: { effort: 'low' } },
    previous_response_id: { previous_response_id: 'resp_1' },
  };
  const responsesKey = keyFor('openai.responses', responsesBase);
  for (const [field, patch] of Object.entries(responsesFields)) {
    test(`openai.responses: ${field}`, () => {
      expect(keyFor('openai.responses', { ...responsesBase, ...patch })).not.toBe(responsesKey);
    });
  }

  test('openai.completions: prompt, suffix, echo, best_of', () => {
    const b: JsonObject = { model: 'gpt-3.5-turbo-instruct', prompt: 'Once' };
    const k = keyFor('openai.completions', b);
    for (const patch of [{ prompt: 'Twice' }, { suffix: '.' }, { echo: true }, { best_of: 2 }] as JsonObject[]) {
      expect(keyFor('openai.completions', { ...b, ...patch })).not.toBe(k);
    }
  });

  test('openai.embeddings: input, dimensions, encoding_format', () => {
    const b: JsonObject = { model: 'text-embedding-3-small', input: 'x' };
    const k = keyFor('openai.embeddings', b);
    for (const patch of [{ input: 'y' }, { dimensions: 256 }, { encoding_format: 'base64' }] as JsonObject[]) {
      expect(keyFor('openai.embeddings', { ...b, ...patch })).not.toBe(k);
    }
  });

  test('scope: protocol, upstream, credential, namespace', () => {
    const k = keyFor('openai.chat', chatBase);
    expect(keyFor('openai.chat', chatBase, 'cred:b')).not.toBe(k);
    expect(keyFor('openai.chat', chatBase, 'cred:a', 'other')).not.toBe(k);
    expect(keyFor('openai.chat', chatBase, 'cred:a', 'default', 'https://example.test/v1')).not.toBe(k);
    expect(keyFor('openai.completions', { model: 'gpt-4o-mini', prompt: 'hello' })).not.toBe(k);
  });
});

describe('fields that cannot change the answer leave the key alone', () => {
  test('stream, stream_options, user, metadata and key order', () => {
    const k = keyFor('openai.chat', chatBase);
    expect(
      keyFor('openai.chat', { ...chatBase, stream: true, stream_options: { include_usage: true } }),
    ).toBe(k);
    expect(keyFor('openai.chat', { ...chatBase, user: 'u-1', metadata: { a: 'b' } })).toBe(k);
    expect(keyFor('openai.chat', { messages: chatBase.messages ?? [], model: 'gpt-4o-mini' })).toBe(k);
  });
});

describe('keys carry no secret and no prompt', () => {
  test('a key is a version and a hash', () => {
    const key = keyFor(
      'openai.chat',
      { ...chatBase, messages: [{ role: 'user', content: 'my secret prompt' }] },
      credentialScope('sk-live-123'),
    );
    expect(key).toMatch(/^v2:[0-9a-f]{64}$/);
    expect(credentialScope('sk-live-123')).not.toContain('sk-live');
    expect(credentialScope(undefined)).toBe('anonymous');
    expect(credentialScope('a')).not.toBe(credentialScope('b'));
  });

  test('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"e":2,"f":1}]},"b":1}',
    );
  });
});

describe('no nesting depth overflows the key derivation', () => {
  test('canonicalJson of 100,000 nested arrays and objects', () => {
    let value: JsonValue = 'leaf';
    for (let i = 0; i < 100_000; i++) value = i % 2 ? [value] : { a: value };
    const text = canonicalJson(value);
    expect(text.length).toBeGreaterThan(300_000);
    expect(text.startsWith('[{"a":[{"a":')).toBe(true);
    expect(text).toContain('{"a":"leaf"}]}]');
    expect(text.endsWith('}]}]')).toBe(true);
  });
});
