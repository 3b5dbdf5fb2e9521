/**
 * Capture cost per recorded stream miss, in process: the Recorder fed the upstream's own network
 * chunks, then the completeness gate (judgeAnswer), on streams recorded once from the mock
 * upstream (OpenAI chat with usage, 50 and 200 content chunks; Anthropic Messages, OpenAI
 * Responses and Gemini streamGenerateContent, 200 chunks each). Gemini has no in-place reader
 * yet: its rows (c) and (d) both decode and parse every event.
 *
 * Baseline, measured in the same run and interleaved: what a client library does to read such a
 * stream at all, eventsource-parser (with a streaming TextDecoder) plus JSON.parse of every event.
 * Row (d) is the gate as it was (decode the body again, JSON.parse every event), for a
 * before/after in the same run.
 * Prints ns per event (median of RUNS rounds after WARMUPS) and the ratio to that baseline;
 * below 1.00x means cheaper than just parsing the stream. Prints, never asserts.
 * Run: npm run bench:gate
 */
import { cpus, loadavg } from 'node:os';
import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import { judgeAnswer } from '../src/capture/gate.js';
import { Recorder } from '../src/capture/recorder.js';
import {
  anthropicMessagesProtocol,
  geminiStreamProtocol,
  openaiChatProtocol,
  openaiResponsesProtocol,
} from '../src/protocols/index.js';
import type { EngineProtocol, Protocol, RequestInfo } from '../src/protocols/types.js';
import { sseFraming } from '../src/sse/framing.js';
import { startMockUpstream } from '../test/mock-upstream/index.js';
import { measureInterleaved } from './lib/measure.js';

const WARMUPS = 5;
const RUNS = 15;
/** Each timed round repeats the work this many times, so one round lasts a few milliseconds. */
const REPEAT = 200;
const MAX_ENTRY_BYTES = 8 * 1024 * 1024;
const META = { ttlMs: 3_600_000, namespace: 'default', tags: [] as string[] };

interface Recording {
  label: string;
  protocol: EngineProtocol;
  request: RequestInfo;
  contentType: string;
  /** The body as the network delivered it (undici's chunks). */
  chunks: Buffer[];
  events: number;
}

const mock = await startMockUpstream();

async function record(
  label: string,
  protocol: Protocol,
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<Recording> {
  // A templated route (Gemini's) validates with its path and query.
  const [rawPath = path, search = ''] = path.split('?');
  const params = protocol.matchPath?.(rawPath);
  const check = protocol.validate(body, params && { ...params, search: search === '' ? '' : `?${search}`, headers: {} });
  if (!check.ok) throw new Error(check.message);
  const response = await request(`${mock.url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'x-goog-api-key': 'bench', ...headers },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  const contentType = String(response.headers['content-type']);
  const events = countEvents(Buffer.concat(chunks));
  return { label, protocol, request: check.request, contentType, chunks, events };
}

function countEvents(body: Buffer): number {
  let events = 0;
  createParser({ onEvent: () => events++ }).feed(body.toString('utf8'));
  return events;
}

const chat = (words: number) =>
  record(
    `OpenAI chat, ${words} chunks`,
    openaiChatProtocol,
    '/v1/chat/completions',
    {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: `Explain caching gateways (${words}).` }],
    },
    { 'x-mock-words': String(words), 'x-mock-split': '512' },
  );

const recordings = [
  await chat(50),
  await chat(200),
  await record(
    'Anthropic messages, 200 chunks',
    anthropicMessagesProtocol,
    '/v1/messages',
    {
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      stream: true,
      messages: [{ role: 'user', content: 'Explain caching gateways.' }],
    },
    { 'x-mock-words': '200', 'x-mock-split': '512' },
  ),
  await record(
    'OpenAI responses, 200 chunks',
    openaiResponsesProtocol,
    '/v1/responses',
    { model: 'gpt-4o-mini', stream: true, input: 'Explain caching gateways.' },
    { 'x-mock-words': '200', 'x-mock-split': '512' },
  ),
  await record(
    'Gemini streamGenerateContent (alt=sse), 200 chunks',
    geminiStreamProtocol,
    '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    { contents: [{ role: 'user', parts: [{ text: 'Explain caching gateways.' }] }] },
    { 'x-mock-words': '200', 'x-mock-split': '512' },
  ),
];
await mock.close();

/** Baseline: read the stream the way an SDK does, and parse every event's JSON. */
function baseline(recording: Recording): number {
  let parsed = 0;
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent: (event) => {
      if (event.data !== '[DONE]') parsed += JSON.parse(event.data) === null ? 0 : 1;
    },
  });
  for (const chunk of recording.chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  return parsed;
}

function recordOnly(recording: Recording): Recorder {
  const recorder = new Recorder(MAX_ENTRY_BYTES, sseFraming);
  let now = 0;
  for (const chunk of recording.chunks) recorder.push(chunk, now++);
  return recorder;
}

/** What a miss pays: every chunk through the Recorder, then the gate. */
function capture(recording: Recording): number {
  const recorder = recordOnly(recording);
  const verdict = judgeAnswer(
    recording.protocol,
    recording.request,
    { status: 200, contentType: recording.contentType },
    recorder,
    META,
  );
  if (!verdict.storable) throw new Error(`${recording.label}: not storable: ${verdict.reason}`);
  return verdict.entry.eventEnds?.length ?? 0;
}

/**
 * The gate as it was before it read recordings in place, for a before/after in the same run:
 * decode the whole body again, then JSON-parse every event (protocol.inspectStream).
 */
function captureDecoding(recording: Recording): number {
  const recorder = recordOnly(recording);
  const verdict = recording.protocol.inspectStream(sseFraming.decode(recorder.bytes()), recording.request);
  if (!verdict.complete) throw new Error(`${recording.label}: not complete: ${verdict.reason}`);
  return recorder.frameEnds.length;
}

const repeat = (work: () => number) => () => {
  let result = 0;
  for (let i = 0; i < REPEAT; i++) result = work();
  return result;
};

const [load1, load5] = loadavg();
console.log(
  `Gate benchmark: Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ` +
    `load average ${load1?.toFixed(2)} / ${load5?.toFixed(2)} (1 / 5 min)`,
);
console.log(`ns/event = median of ${RUNS} rounds of ${REPEAT} streams, after ${WARMUPS} warm-up rounds, interleaved\n`);

for (const recording of recordings) {
  const bytes = recording.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const results = measureInterleaved(
    {
      baseline: repeat(() => baseline(recording)),
      recorder: repeat(() => recordOnly(recording).byteLength),
      capture: repeat(() => capture(recording)),
      decoding: repeat(() => captureDecoding(recording)),
    },
    { warmups: WARMUPS, runs: RUNS },
  );
  const perEvent = (ms: number) => (ms * 1e6) / REPEAT / recording.events;
  const base = perEvent(results.baseline.medianMs);
  const row = (name: string, ms: number) => {
    const ns = perEvent(ms);
    return `  ${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/event  ${(ns / base).toFixed(2).padStart(5)}x`;
  };
  console.log(
    `${recording.label}: ${recording.events} events, ${bytes} bytes in ${recording.chunks.length} network chunks`,
  );
  console.log(row('(a) baseline: eventsource-parser + JSON.parse', results.baseline.medianMs));
  const perChunk = (results.recorder.medianMs * 1e6) / REPEAT / recording.chunks.length;
  console.log(`${row('(b) Recorder.push of every chunk', results.recorder.medianMs)}  (${perChunk.toFixed(0)} ns/chunk)`);
  console.log(row('(c) capture: Recorder + judgeAnswer', results.capture.medianMs));
  console.log(row('    of which the gate (c - b)', results.capture.medianMs - results.recorder.medianMs));
  console.log(row('(d) before: Recorder + decode + inspectStream', results.decoding.medianMs));
  console.log(row('    of which the old gate (d - b)', results.decoding.medianMs - results.recorder.medianMs));
  console.log(`  capture now / before: ${(results.capture.medianMs / results.decoding.medianMs).toFixed(2)}x`);
  console.log('');
}
