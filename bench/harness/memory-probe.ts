/**
 * Child-process entry point (run with --expose-gc): how much memory an L1 entry really costs.
 * Records N real SSE answers the way the gateway does (undici socket chunks → Recorder →
 * completeness gate → CacheEntry) and keeps them in a MemoryStore, then compares heap growth
 * with the payload bytes. Prints one JSON line.
 *   node --expose-gc --import tsx bench/harness/memory-probe.ts ENTRIES WORDS
 */
import { Agent, request } from 'undici';
import { sseFraming } from '../../src/sse/framing.js';
import type { CacheEntry } from '../../src/cache/entry.js';
import { entrySize } from '../../src/cache/entry.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { judgeAnswer } from '../../src/capture/gate.js';
import { Recorder } from '../../src/capture/recorder.js';
import { openaiChatProtocol } from '../../src/protocols/index.js';
import { startMockUpstream } from '../../test/mock-upstream/index.js';
import { CHAT_PATH, chatBody, JSON_HEADERS } from './requests.js';

const entries = Number(process.argv[2] ?? 1000);
const words = process.argv[3] ?? '198';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const mock = await startMockUpstream();
const agent = new Agent({ connections: 4 });
const store = new MemoryStore({
  maxBytes: 2 * 1024 * 1024 * 1024,
  maxEntryBytes: 8 * 1024 * 1024,
});

async function record(label: string): Promise<CacheEntry> {
  const body = chatBody({ stream: true, label });
  const check = openaiChatProtocol.validate(JSON.parse(body));
  if (!check.ok) throw new Error(check.message);
  const response = await request(`${mock.url}${CHAT_PATH}`, {
    method: 'POST',
    body,
    headers: { ...JSON_HEADERS, 'x-mock-words': words },
    dispatcher: agent,
  });
  const contentType = String(response.headers['content-type']);
  const recorder = new Recorder(8 * 1024 * 1024, sseFraming);
  for await (const chunk of response.body) recorder.push(chunk as Buffer, Date.now());
  const verdict = judgeAnswer(
    openaiChatProtocol,
    check.request,
    { status: response.statusCode, contentType },
    recorder,
    { ttlMs: 3_600_000, namespace: 'default', tags: [] },
  );
  if (!verdict.storable) throw new Error(`not storable: ${verdict.reason}`);
  return verdict.entry;
}

const settle = (): NodeJS.MemoryUsage => {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
};

// Warm up the agent, the mock and the JIT so the baseline holds them already.
for (let i = 0; i < 50; i++) await record(`warm-${i}`);
const before = settle();

let payloadBytes = 0;
let accountedBytes = 0;
let events = 0;
const backing = new Set<ArrayBufferLike>();
for (let i = 0; i < entries; i++) {
  const entry = await record(`entry-${i}`);
  payloadBytes += entry.body.byteLength;
  accountedBytes += entrySize(entry);
  events += entry.eventEnds?.length ?? 0;
  backing.add(entry.body.buffer);
  await store.set(`key-${i}`, entry);
}
const after = settle();

let backingBytes = 0;
for (const buffer of backing) backingBytes += buffer.byteLength;
const heapGrowth = after.heapUsed - before.heapUsed;
const bufferGrowth = after.arrayBuffers - before.arrayBuffers;

process.stdout.write(
  `${JSON.stringify({
    entries: store.stats().entries,
    eventsPerEntry: events / entries,
    payloadBytes,
    accountedBytes,
    heapGrowth,
    bufferGrowth,
    totalGrowth: heapGrowth + bufferGrowth,
    backingBytes,
  })}\n`,
);
await agent.close();
await mock.close();
