import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_JSON_DEPTH, nestingExceeds, parseJsonBody } from '../../src/protocols/json-body.js';

describe('parseJsonBody', () => {
  test('strict UTF-8: an invalid byte is refused, not replaced', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    expect(parseJsonBody(bad)).toMatchObject({ ok: false, code: 'invalid_utf8' });
    expect(parseJsonBody(Buffer.from('{"a":"café"}'))).toEqual({ ok: true, value: { a: 'café' } });
  });

  test(`the depth limit (${DEFAULT_MAX_JSON_DEPTH}) counts containers outside strings only`, () => {
    const at = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(parseJsonBody(at(DEFAULT_MAX_JSON_DEPTH)).ok).toBe(true);
    expect(parseJsonBody(at(DEFAULT_MAX_JSON_DEPTH + 1))).toMatchObject({ ok: false, code: 'too_deep' });
    expect(nestingExceeds(`{"a":"${'['.repeat(500)}\\"{{{"}`, 2)).toBe(false);
    expect(parseJsonBody(at(1_000_000))).toMatchObject({ ok: false, code: 'too_deep' });
  });

  test('not JSON', () => {
    expect(parseJsonBody('{"model": ')).toMatchObject({ ok: false, code: 'invalid_json' });
  });
});
