import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestTarget } from '../../src/gateway/http.js';

/** What the WHATWG URL parser makes of an origin-form target taken as a path. */
function parsed(target: string) {
  const url = new URL(`http://sluice.local${target}`);
  return { path: url.pathname, search: url.search };
}

describe('requestTarget: the path and query the URL parser gives, with or without the parser', () => {
  it('agrees with the parser on awkward targets', () => {
    for (const target of [
      '/v1/chat/completions',
      '/v1/chat/completions?',
      '/v1/chat/completions?api-version=2024-10-21',
      '/v1/./chat/completions',
      '/v1/../v1/chat/completions',
      '/v1//chat/completions',
      '//',
      '//evil.example/v1/models',
      '/v1/chat/completions#frag',
      '/v1/chat%2Fcompletions',
      '/v1/chat completions',
      '/v1\\chat\\completions',
      '/model/anthropic.claude-3-haiku-20240307-v1:0/converse',
      '/v1/é',
      '/',
    ]) {
      expect(requestTarget(target), target).toEqual(parsed(target));
    }
  });

  it('agrees with the parser on any origin-form target (the fast path changes no result)', () => {
    const chars = fc.constantFrom(...'abcAZ09_-~./\\?#%:@ é\t'.split(''));
    const target = fc.array(chars, { maxLength: 40 }).map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(target, (t) => {
        expect(requestTarget(t)).toEqual(parsed(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes an absolute-form target (a proxy request) by its path, and refuses what is no URL', () => {
    expect(requestTarget('http://api.example/v1/models?x=1')).toEqual({ path: '/v1/models', search: '?x=1' });
    expect(requestTarget('http://[bad/v1/models')).toBeUndefined();
    expect(requestTarget('*')).toBeUndefined();
  });
});
