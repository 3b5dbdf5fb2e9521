import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry.js';
import { decodeEntry, encodeEntry } from '../../src/cache/entry-codec.js';
import { StoreError } from '../../src/cache/store.js';
import { everyByteBody, jsonEntry, sseEntry } from './entries.js';

function expectCorrupt(input: Uint8Array): void {
  let thrown: unknown;
  try {
    decodeEntry(input);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(StoreError);
  expect((thrown as StoreError).code).toBe('STORE_CORRUPT_ENTRY');
}

function expectSameEntry(actual: CacheEntry, expected: CacheEntry): void {
  expect(actual).toEqual(expected);
  expect(actual.body).toBeInstanceOf(Uint8Array);
  expect(Buffer.from(actual.body).equals(Buffer.from(expected.body))).toBe(true);
  if (expected.eventEnds) expect(actual.eventEnds).toBeInstanceOf(Uint32Array);
}

describe('entry codec', () => {
  it('round-trips a JSON entry and an SSE entry exactly', () => {
    for (const entry of [jsonEntry(), sseEntry(), sseEntry({ body: everyByteBody(), tags: [] })]) {
      expectSameEntry(decodeEntry(encodeEntry(entry)), entry);
    }
  });

  it('keeps optional fields absent rather than inventing them', () => {
    const { usage: _usage, ...withoutUsage } = jsonEntry();
    const decoded = decodeEntry(encodeEntry(withoutUsage));
    expect('usage' in decoded).toBe(false);
    expect('eventEnds' in decoded).toBe(false);
    expect('usageEventIndex' in decoded).toBe(false);
    expect('upstreamMs' in decoded).toBe(false);
  });

  it('round-trips the recorded upstream duration, and refuses a bad one', () => {
    const entry = sseEntry({ upstreamMs: 1234 });
    expect(decodeEntry(encodeEntry(entry)).upstreamMs).toBe(1234);
    expectCorrupt(encodeEntry({ ...entry, upstreamMs: -1 }));
  });

  it('distinguishes empty typed arrays from absent ones, and handles an empty body', () => {
    const entry = sseEntry({ body: new Uint8Array(0), eventEnds: new Uint32Array(0), eventTimes: undefined });
    const decoded = decodeEntry(encodeEntry(entry));
    expect(decoded.body.byteLength).toBe(0);
    expect(decoded.eventEnds).toEqual(new Uint32Array(0));
    expect(decoded.eventTimes).toBeUndefined();
  });

  it('decodes from an unaligned view inside a larger buffer into fresh arrays', () => {
    const entry = sseEntry();
    const encoded = encodeEntry(entry);
    const host = new Uint8Array(encoded.length + 3);
    host.set(encoded, 1);
    const view = host.subarray(1, 1 + encoded.length);
    const decoded = decodeEntry(view);
    expectSameEntry(decoded, entry);
    host.fill(0);
    expect(decoded.body).toEqual(entry.body);
    expect(decoded.eventTimes).toEqual(entry.eventTimes);
  });

  it('rejects every truncation of a valid entry', () => {
    const encoded = encodeEntry(sseEntry());
    for (let length = 0; length < encoded.length; length++) expectCorrupt(encoded.subarray(0, length));
  });

  it('rejects trailing garbage, bad magic, an unknown codec version and a bad header', () => {
    const encoded = encodeEntry(jsonEntry());
    expectCorrupt(Buffer.concat([encoded, Buffer.from([0])]));
    const badMagic = Buffer.from(encoded);
    badMagic[0] = 0x58;
    expectCorrupt(badMagic);
    const futureVersion = Buffer.from(encoded);
    futureVersion[4] = 99;
    expectCorrupt(futureVersion);
    const badJson = Buffer.from(encoded);
    badJson[9] = 0x7d; // '}' where '{' should be
    expectCorrupt(badJson);
  });

  it('rejects headers with wrong field types or an unknown protocol', () => {
    const headerWith = (patch: Record<string, unknown>): Buffer => {
      const header = Buffer.from(
        JSON.stringify({
          v: 1,
          format: 'json',
          protocol: 'openai.chat',
          contentType: 'application/json',
          createdAt: 1,
          ttlMs: 1,
          model: 'm',
          namespace: 'n',
          tags: [],
          bodyBytes: 0,
          ...patch,
        }),
      );
      const prefix = Buffer.from([0x53, 0x4c, 0x43, 0x45, 1, 0, 0, 0, 0]);
      prefix.writeUInt32LE(header.length, 5);
      return Buffer.concat([prefix, header]);
    };
    expect(decodeEntry(headerWith({})).model).toBe('m');
    expectCorrupt(headerWith({ protocol: 'carrier.pigeon' }));
    expectCorrupt(headerWith({ format: 'xml' }));
    expectCorrupt(headerWith({ tags: [1] }));
    expectCorrupt(headerWith({ v: 2 }));
    expectCorrupt(headerWith({ bodyBytes: -1 }));
    expectCorrupt(headerWith({ usage: { inputTokens: 'many', outputTokens: 1 } }));
    expectCorrupt(headerWith({ eventEnds: 1.5 }));
  });

  it('never throws anything but STORE_CORRUPT_ENTRY on random bytes', () => {
    const encoded = encodeEntry(sseEntry());
    for (let i = 0; i < 500; i++) {
      const mutated = Buffer.from(encoded);
      const position = (i * 7919) % mutated.length;
      mutated[position] = (mutated[position]! + 1 + (i % 255)) % 256;
      try {
        decodeEntry(mutated);
      } catch (err) {
        expect((err as StoreError).code).toBe('STORE_CORRUPT_ENTRY');
      }
    }
  });
});
