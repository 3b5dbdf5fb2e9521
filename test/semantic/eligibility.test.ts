import { describe, expect, it } from 'vitest';
import { deriveCacheKey } from '../../src/cache/key.js';
import {
  anthropicMessagesProtocol,
  openaiChatProtocol,
  openaiCompletionsProtocol,
  openaiEmbeddingsProtocol,
  openaiResponsesProtocol,
} from '../../src/protocols/index.js';
import type { Protocol } from '../../src/protocols/types.js';
import { semanticEligibility } from '../../src/semantic/eligibility.js';
import { validRequest } from '../protocols/helpers.js';

const check = (protocol: Protocol, body: unknown, max = 3) =>
  semanticEligibility(protocol.name, protocol.keyMaterial(validRequest(protocol, body)), max);
const chat = (messages: unknown[], extra: object = {}) => check(openaiChatProtocol, { model: 'm', messages, ...extra });
const user = (content: unknown) => ({ role: 'user', content });

describe('semantic eligibility (exact-only guards)', () => {
  it('embeds the text of the last user message, string or text parts', () => {
    expect(chat([user('Hello there')])).toMatchObject({ eligible: true, text: 'Hello there' });
    expect(chat([user([{ type: 'text', text: 'Hello' }, { type: 'text', text: 'there' }])])).toMatchObject({
      eligible: true,
      text: 'Hello\nthere',
    });
  });

  it.each([
    ['a non-text part', [user([{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }])], 'non_text_part'],
    ['an empty last user text', [user('   \n')], 'empty_text'],
    ['tool results as the last turn', [user('weather?'), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: '{"t":3}' }], 'tool_result_last'],
    ['more than maxMessages, system included', [{ role: 'system', content: 's' }, user('a'), { role: 'assistant', content: 'b' }, user('c')], 'too_many_messages'],
    ['an assistant prefill last', [user('a'), { role: 'assistant', content: 'b' }], 'last_not_user'],
  ])('chat: %s is exact-only', (_name, messages, reason) => {
    expect(chat(messages)).toEqual({ eligible: false, reason });
  });

  it('chat: n > 1 and logprobs are exact-only; n = 1 is not', () => {
    expect(chat([user('a b')], { n: 2 })).toEqual({ eligible: false, reason: 'n_gt_1' });
    expect(chat([user('a b')], { logprobs: true })).toEqual({ eligible: false, reason: 'logprobs' });
    expect(chat([user('a b')], { n: 1 })).toMatchObject({ eligible: true });
  });

  it('anthropic: the system prompt counts as a message; tool_result blocks last are exact-only', () => {
    const body = (messages: unknown[], system?: string) => ({ model: 'c', max_tokens: 10, messages, ...(system ? { system } : {}) });
    const three = [user('a'), { role: 'assistant', content: 'b' }, user('c')];
    expect(check(anthropicMessagesProtocol, body(three))).toMatchObject({ eligible: true, text: 'c' });
    expect(check(anthropicMessagesProtocol, body(three, 'sys'))).toEqual({ eligible: false, reason: 'too_many_messages' });
    expect(
      check(anthropicMessagesProtocol, body([user([{ type: 'tool_result', tool_use_id: 't', content: 'x' }])])),
    ).toEqual({ eligible: false, reason: 'tool_result_last' });
    expect(
      check(anthropicMessagesProtocol, body([user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }])])),
    ).toEqual({ eligible: false, reason: 'non_text_part' });
  });

  it('responses: string input, input_text parts; previous_response_id and tool outputs are exact-only', () => {
    expect(check(openaiResponsesProtocol, { model: 'm', input: 'hi there' })).toMatchObject({ eligible: true, text: 'hi there' });
    expect(
      check(openaiResponsesProtocol, { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'yo' }] }] }),
    ).toMatchObject({ eligible: true, text: 'yo' });
    expect(check(openaiResponsesProtocol, { model: 'm', input: 'x', previous_response_id: 'resp_1' })).toEqual({
      eligible: false,
      reason: 'hidden_history',
    });
    expect(
      check(openaiResponsesProtocol, { model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: '1' }] }),
    ).toEqual({ eligible: false, reason: 'tool_result_last' });
  });

  it('completions: n/best_of and logprobs are exact-only; embeddings never take part', () => {
    expect(check(openaiCompletionsProtocol, { model: 'm', prompt: 'Once upon' })).toMatchObject({ eligible: true });
    expect(check(openaiCompletionsProtocol, { model: 'm', prompt: 'x', logprobs: 2 })).toEqual({ eligible: false, reason: 'logprobs' });
    expect(check(openaiEmbeddingsProtocol, { model: 'e', input: 'x' })).toEqual({ eligible: false, reason: 'protocol' });
  });
});

describe('compatibility fingerprint', () => {
  const fingerprint = (body: object) => {
    const verdict = check(openaiChatProtocol, body);
    if (!verdict.eligible) throw new Error('not eligible');
    const target = { path: '/v1/chat/completions', query: [], headers: {} };
    return deriveCacheKey({ protocol: 'openai.chat', upstream: 'u', scope: 's', namespace: 'n', target, material: verdict.material });
  };
  const base = { model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, user('Hello there')] };

  it('is the same when only the last user text differs', () => {
    expect(fingerprint({ ...base, messages: [base.messages[0], user('Hi!!')] })).toBe(fingerprint(base));
  });

  it.each([
    ['the system prompt', { messages: [{ role: 'system', content: 'Be verbose.' }, user('Hello there')] }],
    ['an earlier turn', { messages: [user('x'), { role: 'assistant', content: 'y' }, user('Hello there')] }],
    ['tools', { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }],
    ['tool_choice', { tool_choice: 'none' }],
    ['response_format', { response_format: { type: 'json_object' } }],
    ['temperature', { temperature: 0.2 }],
    ['max_tokens', { max_tokens: 5 }],
    ['the model', { model: 'other' }],
  ])('changes with %s', (_name, patch) => {
    expect(fingerprint({ ...base, ...patch })).not.toBe(fingerprint(base));
  });

  it('ignores what the exact key ignores (stream, user)', () => {
    expect(fingerprint({ ...base, stream: true, user: 'u-9' })).toBe(fingerprint(base));
  });
});
