import { describe, expect, test } from 'vitest';
import {
  DEFAULT_CREDENTIAL_SOURCES,
  DEFAULT_SOURCES,
  findCredential,
  parseCredentialSources,
  redactHeaders,
  redactUrl,
} from '../../src/cache/credentials.js';
import { requestIdentity } from '../../src/cache/scope.js';
import { KEY_HEADERS } from '../../src/protocols/key-headers.js';

const identity = (headers: Record<string, string>, search = '', sources = DEFAULT_SOURCES) =>
  requestIdentity({
    headers,
    path: '/v1/chat/completions',
    search,
    credentialSources: sources,
    shareAcrossCredentials: false,
  });

describe('credential sources', () => {
  test('the default list, in order', () => {
    expect(DEFAULT_CREDENTIAL_SOURCES).toEqual([
      'authorization',
      'x-api-key',
      'api-key',
      'x-goog-api-key',
      'query:key',
      'query:api-key',
    ]);
  });

  test.each(DEFAULT_SOURCES.map((s) => [`${s.in}:${s.name}`, s] as const))(
    '%s alone scopes the request, and two values are two scopes',
    (_label, source) => {
      const present = (value: string) =>
        source.in === 'header' ? identity({ [source.name]: value }) : identity({}, `?${source.name}=${value}`);
      expect(present('one').scope).toMatch(/^cred:[0-9a-f]{32}$/);
      expect(present('one').scope).not.toBe(present('two').scope);
      expect(present('one').scope).not.toBe(identity({}).scope);
      expect(present('one').scope).not.toContain('one');
    },
  );

  test('every present source scopes, not only the first', () => {
    const both = identity({ authorization: 'Bearer a', 'api-key': 'b' });
    expect(both.scope).not.toBe(identity({ authorization: 'Bearer a', 'api-key': 'c' }).scope);
    expect(both.scope).not.toBe(identity({ authorization: 'Bearer a' }).scope);
    expect(both.scope).toBe(identity({ 'api-key': 'b', authorization: 'bearer a' }).scope);
  });

  test('one source alone keeps the scope it had before several counted', () => {
    expect(findCredential({ authorization: 'Bearer a' }, new URLSearchParams(), DEFAULT_SOURCES)).toBe(
      'header:authorization=bearer a',
    );
  });

  test('the auth scheme is case-insensitive', () => {
    expect(identity({ authorization: 'bearer sk-1' }).scope).toBe(identity({ authorization: 'Bearer sk-1' }).scope);
    expect(identity({ authorization: 'BEARER  sk-1' }).scope).toBe(identity({ authorization: 'Bearer sk-1' }).scope);
  });

  test('a query credential is scope, not key material', () => {
    const a = identity({}, '?key=one&api-version=1');
    expect(a.target.query).toEqual([['api-version', '1']]);
  });

  test('a configured list replaces the default', () => {
    const sources = parseCredentialSources(['x-tenant', 'query:token']);
    expect(findCredential({ authorization: 'Bearer x' }, new URLSearchParams(), sources)).toBeUndefined();
    expect(findCredential({}, new URLSearchParams('token=t'), sources)).toBe('query:token=t');
  });
});

describe('KEY_HEADERS: each listed header is key material', () => {
  test.each(Object.keys(KEY_HEADERS))('%s', (name) => {
    const without = identity({ authorization: 'Bearer same' });
    const a = identity({ authorization: 'Bearer same', [name]: 'value-a' });
    const b = identity({ authorization: 'Bearer same', [name]: 'value-b' });
    expect(a.target.headers).toEqual({ [name]: 'value-a' });
    expect(a.target).not.toEqual(b.target);
    expect(a.target).not.toEqual(without.target);
  });

  test('other headers are not', () => {
    expect(identity({ 'user-agent': 'x', 'x-request-id': 'y', 'x-stainless-os': 'z' }).target.headers).toEqual({});
  });
});

describe('redaction', () => {
  test('credential query parameters are redacted in URLs', () => {
    expect(redactUrl('/v1/chat/completions?api-version=1&key=SECRET1&api-key=SECRET2#f')).toBe(
      '/v1/chat/completions?api-version=1&key=[redacted]&api-key=[redacted]#f',
    );
    expect(redactUrl('redis://:hunter2@127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
    expect(redactUrl('/x?Key=SECRET')).not.toContain('SECRET');
  });

  test('credential headers are redacted, configured ones too', () => {
    const sources = parseCredentialSources(['x-tenant']);
    expect(redactHeaders({ authorization: 'Bearer s', 'x-tenant': 't', accept: '*/*' }, sources)).toEqual({
      authorization: '[redacted]',
      'x-tenant': '[redacted]',
      accept: '*/*',
    });
  });
});
