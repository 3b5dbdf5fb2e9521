import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import type { StoreErrorCode } from '../src/cache/store.js';
import { resolveCli } from '../src/cli-options.js';
import { parseConfig } from '../src/config.js';
import { BodyTooLargeError } from '../src/gateway/http.js';
import * as gateway from '../src/gateway/index.js';
import * as library from '../src/index.js';
import { createEventStreamDecoder } from '../src/sse/eventstream.js';
import { encodeSseEvent } from '../src/sse/encoder.js';
import { createSseDecoder } from '../src/sse/decoder.js';

/**
 * Every error a library user or the CLI can see is a SluiceError with a stable `code`
 * (README "Errors the library raises"): `err instanceof SluiceError` is the one test a caller needs.
 */

const { SluiceError } = library;

const isErrorClass = (value: unknown): value is new (...args: never[]) => Error =>
  typeof value === 'function' && value.prototype instanceof Error;

const publicErrorClasses: Array<[string, new (...args: never[]) => Error]> = [];
for (const [name, value] of [
  ...Object.entries(library as Record<string, unknown>),
  ...Object.entries(gateway as Record<string, unknown>),
  ['BodyTooLargeError', BodyTooLargeError as unknown] as const,
]) {
  if (isErrorClass(value)) publicErrorClasses.push([name, value]);
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('the public error classes', () => {
  test('the entries export every error class a caller may meet', () => {
    expect(publicErrorClasses.map(([name]) => name).sort()).toEqual(
      [
        'BodyTooLargeError',
        'ConfigError',
        'EventStreamError',
        'IncompletePurgeError',
        'LibraryError',
        'ProtocolError',
        'SemanticError',
        'SluiceError',
        'SseDecodeError',
        'SseEncodeError',
        'SseOptionError',
        'StoreError',
        'UpstreamError',
        'UsageError',
      ].sort(),
    );
  });

  test.each(publicErrorClasses.filter(([name]) => name !== 'SluiceError'))('%s is a SluiceError', (_name, cls) => {
    expect(cls.prototype).toBeInstanceOf(SluiceError);
  });
});

describe('the error classes declared with codedError', () => {
  const coded = [
    ['StoreError', new library.StoreError('STORE_TIMEOUT', 'slow')],
    ['ProtocolError', new library.ProtocolError('PROTOCOL_NOT_STREAMABLE', 'no stream')],
    ['SemanticError', new library.SemanticError('EMBEDDER_FAILED', 'down')],
    ['EventStreamError', new library.EventStreamError('EVENTSTREAM_HEADER', 'bad header')],
    ['LibraryError', new library.LibraryError('LIB_INVALID_OPTIONS', 'bad', { field: 'ttl' })],
  ] as const;

  test.each(coded)('%s: its own class, name, code and message, a SluiceError', (name, err) => {
    expect(err.name).toBe(name);
    expect(err.constructor.name).toBe(name);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toBeInstanceOf(Error);
    expect(err.stack).toContain(name);
    for (const [other, otherErr] of coded) {
      if (other !== name) expect(err).not.toBeInstanceOf(otherErr.constructor);
    }
  });

  test('options pass through: cause and field', () => {
    const cause = new Error('socket closed');
    expect(new library.StoreError('STORE_UNAVAILABLE', 'down', { cause }).cause).toBe(cause);
    expect(new library.LibraryError('LIB_INVALID_ARGUMENT', 'bad', { field: 'ttl' }).field).toBe('ttl');
  });

  test('IncompletePurgeError extends StoreError and keeps its own name and fields', () => {
    const err = new library.IncompletePurgeError(3, true, 'deadline');
    expect(err).toBeInstanceOf(library.StoreError);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({ name: 'IncompletePurgeError', code: 'STORE_TIMEOUT', removed: 3, timedOut: true });
    expect(new library.StoreError('STORE_FAILED', 'x')).not.toBeInstanceOf(library.IncompletePurgeError);
  });

  test('each constructor takes only its own codes (checked by tsc in npm run lint)', () => {
    // @ts-expect-error CONFIG_INVALID is not a store code
    const wrong = new library.StoreError('CONFIG_INVALID', 'x');
    // @ts-expect-error a store code is not a protocol code
    const wrongProtocol = new library.ProtocolError('STORE_TIMEOUT', 'x');
    // @ts-expect-error a semantic code is not a store code
    const wrongSemantic = new library.SemanticError('STORE_FAILED', 'x');
    // The narrowed type of `code` after instanceof: assigning it to the store union compiles.
    const caughtErr: unknown = new library.StoreError('STORE_TIMEOUT', 'x');
    if (caughtErr instanceof library.StoreError) {
      const code: StoreErrorCode = caughtErr.code;
      expect(code).toBe('STORE_TIMEOUT');
    }
    // At run time the class does not check: the types are the guard.
    expect([wrong.code, wrongProtocol.code, wrongSemantic.code]).toEqual(['CONFIG_INVALID', 'STORE_TIMEOUT', 'STORE_FAILED']);
  });
});

describe('errors raised through the public API carry a code', () => {
  test('invalidate() with an unreachable Redis: a SluiceError, STORE_UNAVAILABLE', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const store = new library.RedisStore({ url: `redis://127.0.0.1:${port}` });
    const cache = new library.ResponseCache({ store });
    try {
      const err = await cache.invalidate({ all: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SluiceError);
      expect((err as library.SluiceError).code).toMatch(/^STORE_/);
    } finally {
      await cache.close();
    }
  });

  test('an unknown option names itself as the field', () => {
    const err = caught(() => new library.ResponseCache({ ttl: 60 } as never));
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({ code: 'LIB_INVALID_OPTIONS', field: 'ttl' });
    expect((err as Error).message).toContain('ttl');
  });

  test('an unknown config field names itself, nested too', () => {
    const err = caught(() => parseConfig({ cache: { ttl: 60 } }));
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', field: 'cache.ttl' });
  });

  test('a command line the CLI cannot understand', async () => {
    const err = await resolveCli(['--no-such-flag'], {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({ code: 'CLI_USAGE' });
  });

  test('the codecs', () => {
    expect(caught(() => createSseDecoder({ maxRemainderBytes: 0 }))).toMatchObject({
      code: 'INVALID_OPTION',
      field: 'maxRemainderBytes',
    });
    expect(caught(() => encodeSseEvent({ event: 'a\nb', data: '' }))).toMatchObject({ code: 'SSE_INVALID_FIELD' });
    const decoder = createEventStreamDecoder();
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint32(0, 4);
    const err = caught(() => decoder.feed(bad));
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as library.SluiceError).code).toMatch(/^EVENTSTREAM_/);
    for (const e of [caught(() => createSseDecoder({ maxRemainderBytes: 0 })), caught(() => encodeSseEvent({ event: 'a\nb', data: '' }))]) {
      expect(e).toBeInstanceOf(SluiceError);
    }
  });
});
