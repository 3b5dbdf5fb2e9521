import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_JSON_DEPTH } from '../../src/protocols/json-body.js';
import { openaiChatProtocol } from '../../src/protocols/openai-chat.js';
import { openaiCompletionsProtocol } from '../../src/protocols/openai-completions.js';
import { RequestMemo } from '../../src/protocols/request-memo.js';

const chatBody = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';

describe('RequestMemo', () => {
  test('one body checked by two protocols gets each its own verdict, in any order', () => {
    const memo = new RequestMemo(DEFAULT_MAX_JSON_DEPTH);
    const bytes = Buffer.from(chatBody);
    for (let round = 0; round < 3; round++) {
      expect(memo.check(openaiChatProtocol, bytes)).toMatchObject({ ok: true });
      // Completions needs a prompt: the chat verdict must never be handed to it.
      expect(memo.check(openaiCompletionsProtocol, bytes)).toMatchObject({ ok: false, stage: 'validate' });
    }
  });

  test('the same characters as bytes and as text are checked apart', () => {
    const memo = new RequestMemo(DEFAULT_MAX_JSON_DEPTH);
    // As UTF-8 bytes, C3 A9 is "é"; read as a string's characters (latin1), the same code units are "Ã©".
    const utf8 = Buffer.from('{"model":"m","messages":[{"role":"user","content":"é"}]}', 'utf8');
    const text = utf8.toString('latin1');
    const content = (check: ReturnType<RequestMemo['check']>) =>
      check.ok ? (check.request.body.messages as Array<{ content: string }>)[0]?.content : undefined;
    for (let round = 0; round < 2; round++) {
      expect(content(memo.check(openaiChatProtocol, utf8))).toBe('é');
      expect(content(memo.check(openaiChatProtocol, text))).toBe('Ã©');
    }
  });

  test('a repeated body shares one frozen request; a failure is checked again each time', () => {
    const memo = new RequestMemo(DEFAULT_MAX_JSON_DEPTH);
    const first = memo.check(openaiChatProtocol, Buffer.from(chatBody));
    const second = memo.check(openaiChatProtocol, Buffer.from(chatBody));
    if (!first.ok || !second.ok) throw new Error('expected valid requests');
    expect(second.request).toBe(first.request);
    expect(Object.isFrozen(first.request.body)).toBe(true);
    const bad = Buffer.from('{"model":"m"}');
    expect(memo.check(openaiChatProtocol, bad)).toMatchObject({ ok: false });
    expect(memo.check(openaiChatProtocol, bad)).toMatchObject({ ok: false });
  });
});
