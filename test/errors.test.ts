import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
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
