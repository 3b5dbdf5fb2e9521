import type { CacheEntry } from '../../src/cache/entry.js';

/** A complete JSON entry, fresh, living `ttlMs` from now unless overridden. */
export function jsonEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    version: 1,
    format: 'json',
    protocol: 'openai.chat',
    contentType: 'application/json',
    createdAt: Date.now(),
    ttlMs: 60_000,
    model: 'gpt-test',
    usage: { inputTokens: 12, outputTokens: 34 },
    namespace: 'default',
    tags: [],
    body: new TextEncoder().encode('{"id":"chatcmpl-1","choices":[{"message":{"content":"héllo ✓"}}]}'),
    ...overrides,
  };
}

/** An SSE entry with event boundaries and timings, as the recorder produces. */
export function sseEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  const frames = ['data: {"a":1}\n\n', 'data: {"b":"ü"}\n\n', 'data: [DONE]\n\n'];
  const chunks = frames.map((frame) => new TextEncoder().encode(frame));
  const body = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  const ends: number[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
    ends.push(offset);
  }
  return {
    version: 1,
    format: 'sse',
    protocol: 'anthropic.messages',
    contentType: 'text/event-stream; charset=utf-8',
    createdAt: Date.now(),
    ttlMs: 60_000,
    model: 'claude-test',
    usage: { inputTokens: 5, outputTokens: 7 },
    namespace: 'default',
    tags: ['team-a', 'exp:1'],
    body,
    eventEnds: Uint32Array.from(ends),
    eventTimes: Uint32Array.from([0, 15, 4_000_000_000]),
    usageEventIndex: 1,
    ...overrides,
  };
}

/** Every byte value 0..255, several times over, so any text decoding would corrupt it. */
export function everyByteBody(repeat = 4): Uint8Array {
  const body = new Uint8Array(256 * repeat);
  for (let i = 0; i < body.length; i++) body[i] = i % 256;
  return body;
}
