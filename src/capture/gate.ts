import { type CacheEntry, ENTRY_VERSION } from '../cache/entry.js';
import type { EngineProtocol, JsonVerdict, RequestInfo } from '../protocols/types.js';
import { framingForContentType } from '../sse/framing.js';
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
  const base = {
    version: ENTRY_VERSION,
    protocol: protocol.name,
    contentType: head.contentType,
    createdAt: now,
    ttlMs: meta.ttlMs,
    namespace: meta.namespace,
    tags: meta.tags,
    body,
    ...(meta.upstreamMs === undefined ? {} : { upstreamMs: Math.round(meta.upstreamMs) }),
  } as const;

  const framing = framingForContentType(head.contentType);
  if (framing) {
    let events: SseEvent[];
    try {
      // What counts as a whole frame is the framing's rule (a bad event-stream CRC throws here).
      events = framing.decode(body);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { storable: false, reason: `${framing.name}_undecodable: ${typeof code === 'string' ? code : 'error'}` };
    }
    const verdict = protocol.inspectStream(events);
    if (!verdict.complete) {
      return { storable: false, reason: `${verdict.code ?? 'incomplete_stream'}: ${verdict.reason}` };
    }
    const eventEnds = events.map((e) => e.end);
    return {
      storable: true,
      entry: {
        ...base,
        format: framing.name,
        model: verdict.model ?? request.model,
        usage: verdict.usage,
        eventEnds: Uint32Array.from(eventEnds),
        eventTimes: recorder.timesFor(eventEnds),
        usageEventIndex: verdict.usageEventIndex,
      },
    };
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
    verdict = protocol.inspectJson(parsed);
  }
  if (!verdict.ok) return { storable: false, reason: `not_an_answer: ${verdict.reason}` };
  return {
    storable: true,
    entry: { ...base, format: 'json', model: verdict.model ?? request.model, usage: verdict.usage },
  };
}
