import { type CacheEntry, ENTRY_VERSION } from '../cache/entry.js';
import type { EngineProtocol, JsonVerdict, RequestInfo, StreamVerdict } from '../protocols/types.js';
import { framingForContentType, type StreamFraming } from '../sse/framing.js';
import { readRecordedEvents } from '../sse/recorded-events.js';
import type { SseEvent } from '../sse/types.js';
import type { Recorder } from './recorder.js';

export interface AnswerHead {
  status: number;
  contentType: string;
}

export interface EntryMeta {
  ttlMs: number;
  namespace: string;
  tags: string[];
  /** Upstream duration of this answer (see CacheEntry.upstreamMs). */
  upstreamMs?: number | undefined;
}

export type GateVerdict = { storable: true; entry: CacheEntry } | { storable: false; reason: string };

/**
 * The completeness gate (DESIGN.md section 3, rules 1 and 2): an answer becomes an entry only on
 * proof that it is whole. Called once, after the upstream body ended normally; any abort, limit
 * or failure before that point means the gate is never reached.
 */
export function judgeAnswer(
  protocol: EngineProtocol,
  request: RequestInfo,
  head: AnswerHead,
  recorder: Recorder,
  meta: EntryMeta,
  now = Date.now(),
): GateVerdict {
  if (head.status !== 200) return { storable: false, reason: `status_${head.status}` };
  if (recorder.dropped) return { storable: false, reason: recorder.dropped };
  const body = recorder.bytes();
  const framing = framingForContentType(head.contentType);
  if (framing) {
    const judged = judgeStream(protocol, framing, body, recorder, request);
    if (!judged.complete) return { storable: false, reason: judged.reason };
    const { verdict, eventEnds } = judged;
    const spans = { eventEnds, eventTimes: recorder.timesFor(eventEnds), usageEventIndex: verdict.usageEventIndex };
    return { storable: true, entry: makeEntry(protocol, request, head, meta, now, body, framing.name, verdict, spans) };
  }

  let verdict: JsonVerdict;
  if (protocol.inspectBody) {
    verdict = protocol.inspectBody(body);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return { storable: false, reason: 'invalid_json' };
    }
    verdict = protocol.inspectJson(parsed, request);
  }
  if (!verdict.ok) return { storable: false, reason: `not_an_answer: ${verdict.reason}` };
  return { storable: true, entry: makeEntry(protocol, request, head, meta, now, body, 'json', verdict, NO_SPANS) };
}

const NO_SPANS = { eventEnds: undefined, eventTimes: undefined, usageEventIndex: undefined } as const;

/**
 * An entry as one object literal with every field in one order, streams and JSON alike (no
 * spreads, which V8 turns into a slow copy and a dictionary-shaped object): entries are read on
 * every hit.
 */
function makeEntry(
  protocol: EngineProtocol,
  request: RequestInfo,
  head: AnswerHead,
  meta: EntryMeta,
  now: number,
  body: Buffer,
  format: CacheEntry['format'],
  verdict: { model?: string | undefined; usage?: CacheEntry['usage'] },
  spans: Pick<CacheEntry, 'eventEnds' | 'eventTimes' | 'usageEventIndex'>,
): CacheEntry {
  return {
    version: ENTRY_VERSION,
    protocol: protocol.name,
    format,
    model: verdict.model ?? request.model,
    contentType: head.contentType,
    createdAt: now,
    ttlMs: meta.ttlMs,
    namespace: meta.namespace,
    tags: meta.tags,
    usage: verdict.usage,
    body,
    eventEnds: spans.eventEnds,
    eventTimes: spans.eventTimes,
    usageEventIndex: spans.usageEventIndex,
    upstreamMs: meta.upstreamMs === undefined ? undefined : Math.round(meta.upstreamMs),
  };
}

type StreamJudgement =
  | { complete: true; verdict: Extract<StreamVerdict, { complete: true }>; eventEnds: Uint32Array }
  | { complete: false; reason: string };

/**
 * A stream's verdict, decoding it at most once. An SSE answer of a protocol with an in-place
 * reader is first read from the frame ends the Recorder's scanner already found, without
 * decoding it (protocol.inspectRecording). Only when that reader cannot prove the stream
 * complete (an error, a truncation, a malformed event: answers that are not stored) is the body
 * decoded, and inspectStream gives the verdict and its reason.
 */
function judgeStream(
  protocol: EngineProtocol,
  framing: StreamFraming,
  body: Buffer,
  recorder: Recorder,
  request: RequestInfo,
): StreamJudgement {
  if (framing.name === 'sse' && recorder.framing === 'sse' && protocol.inspectRecording) {
    const events = readRecordedEvents(body, recorder.frameEnds);
    const verdict = protocol.inspectRecording(events);
    if (verdict?.complete) {
      const eventEnds = new Uint32Array(events.length);
      for (let i = 0; i < events.length; i++) eventEnds[i] = events.end(i);
      return { complete: true, verdict, eventEnds };
    }
  }
  let events: SseEvent[];
  try {
    // What counts as a whole frame is the framing's rule (a bad event-stream CRC throws here).
    events = framing.decode(body);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { complete: false, reason: `${framing.name}_undecodable: ${typeof code === 'string' ? code : 'error'}` };
  }
  const verdict = protocol.inspectStream(events, request);
  if (!verdict.complete) return { complete: false, reason: `${verdict.code ?? 'incomplete_stream'}: ${verdict.reason}` };
  const eventEnds = new Uint32Array(events.length);
  for (let i = 0; i < events.length; i++) eventEnds[i] = (events[i] as SseEvent).end;
  return { complete: true, verdict, eventEnds };
}
