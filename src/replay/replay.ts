import { type CacheEntry, remainingTtlMs } from '../cache/entry.js';
import type { ReplayPacing } from '../options-schema.js';
import type { EngineProtocol, JsonObject, RequestInfo } from '../protocols/types.js';
import { type FramingName, framingByName, SSE_CONTENT_TYPE } from '../sse/framing.js';
import { type DerivedForm, type DerivedForms, formOf, framesOf } from './derived.js';
import { createUsageStripper } from './usage-strip.js';

export { SSE_CONTENT_TYPE };
const JSON_CONTENT_TYPE = 'application/json';

/**
 * Headers of every stream answer, live, replayed (instant or paced) or synthesized, so that
 * proxies neither buffer nor transform it whatever its source. Framing headers are not in it:
 * every stream answer is chunked, with no content-length.
 */
export const STREAM_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/** SSE, or AWS event-stream framing (Bedrock's streaming routes). */
export function isStreamContentType(contentType: string): boolean {
  return /^\s*(text\/event-stream|application\/vnd\.amazon\.eventstream)\b/i.test(contentType);
}

/** The streaming headers for an answer of this content type (none for JSON). */
export function streamResponseHeaders(contentType: string): Readonly<Record<string, string>> {
  return isStreamContentType(contentType) ? STREAM_RESPONSE_HEADERS : {};
}

/** What to send for a cache hit: frames in order, each after its delay. */
export interface ReplayPlan {
  contentType: string;
  frames: Uint8Array[];
  /** Delay in ms before each frame; absent for instant replay. */
  delaysMs?: number[] | undefined;
}

/**
 * Whether an entry can answer this request exactly as upstream would. An OpenAI stream recorded
 * without its usage chunk cannot answer a request that needs usage (a JSON request, or a stream
 * with include_usage): that is a miss, and the fresh answer replaces the entry.
 */
export function entryServes(entry: CacheEntry, request: RequestInfo): boolean {
  // A JSON entry is the answer itself (and a stream synthesized from it carries its usage).
  if (entry.format === 'json') return true;
  const needsUsage = request.stream ? request.wantsStreamUsage : true;
  return !needsUsage || entry.usage !== undefined;
}

/** Whether and how an entry found by lookup may answer this request. */
export type HitCheck = { usable: true; ageSeconds: number; ttlSeconds: number } | { usable: false; stale: boolean };

/** Fresh enough for the client's max-age, and able to answer it exactly (see entryServes). */
export function checkHit(
  entry: CacheEntry,
  request: RequestInfo,
  maxAgeSeconds: number | undefined,
  now = Date.now(),
): HitCheck {
  const ageSeconds = Math.max(0, Math.floor((now - entry.createdAt) / 1000));
  const stale = maxAgeSeconds !== undefined && ageSeconds > maxAgeSeconds;
  if (stale || !entryServes(entry, request)) return { usable: false, stale };
  return { usable: true, ageSeconds, ttlSeconds: Math.max(0, Math.floor(remainingTtlMs(entry, now) / 1000)) };
}

/**
 * A follower that asked for exactly the leader's framing (stream or not, usage chunk or not)
 * can take the leader's bytes as they come; any other must wait and be converted.
 */
export function sameFraming(leader: RequestInfo, follower: RequestInfo): boolean {
  return leader.stream === follower.stream && leader.wantsStreamUsage === follower.wantsStreamUsage;
}

/**
 * Turn an entry into the bytes that answer `request`: the recorded bytes when the formats match,
 * otherwise a stream synthesized from JSON or JSON assembled from a stream, kept in `derived`
 * (bounded by bytes). A function of (protocol, entry, request, pacing) only.
 */
export function planReplay(
  protocol: EngineProtocol,
  entry: CacheEntry,
  request: RequestInfo,
  pacing: ReplayPacing,
  derived: DerivedForms,
): ReplayPlan {
  if (!request.stream) {
    if (entry.format === 'json') return { contentType: entry.contentType, frames: [entry.body] };
    const format = entry.format;
    const json = derived.get(entry, 'assembled', () => assembledJson(protocol, entry, format));
    return { contentType: JSON_CONTENT_TYPE, frames: [json.body] };
  }
  if (entry.format !== 'json') return recordedStream(protocol, entry, request, pacing, derived);
  const kind = request.wantsStreamUsage ? 'synthesized-usage' : 'synthesized';
  const form = derived.get(entry, kind, () => synthesizedStream(protocol, entry, request));
  const contentType = framingByName(protocol.streamFraming ?? 'sse').contentType;
  // Without recorded times a synthesized stream has nothing for realtime to follow: instant.
  return paced(contentType, form, pacing === 'realtime' ? 'instant' : pacing);
}

function recordedStream(
  protocol: EngineProtocol,
  entry: CacheEntry,
  request: RequestInfo,
  pacing: ReplayPacing,
  derived: DerivedForms,
): ReplayPlan {
  const ends = entry.eventEnds;
  const hideUsage = !request.wantsStreamUsage && entry.usageEventIndex !== undefined;
  if (pacing === 'instant' && !hideUsage) return { contentType: entry.contentType, frames: [entry.body] };
  if (!ends || ends.length === 0) return { contentType: entry.contentType, frames: [entry.body] };
  if (hideUsage) {
    return paced(entry.contentType, derived.get(entry, 'stripped', () => withoutUsage(protocol, entry, ends)), pacing);
  }
  // Paced replay of the recorded bytes: views of the entry's body, nothing copied or kept.
  const { frames, times } = eventFrames(entry, ends, undefined);
  return { contentType: entry.contentType, frames, delaysMs: replayDelays(pacing, times) };
}

interface Frames {
  frames: Uint8Array[];
  times: number[];
}

/**
 * One frame per recorded event, `skip` left out; bytes before the first event (comments) ride
 * with it and bytes after the last one (keep-alives after the terminal event) ride with the last.
 */
function eventFrames(entry: CacheEntry, ends: Uint32Array, skip: number | undefined): Frames {
  const frames: Uint8Array[] = [];
  const times: number[] = [];
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = i === ends.length - 1 ? entry.body.byteLength : (ends[i] as number);
    if (i !== skip) {
      frames.push(entry.body.subarray(start, end));
      times.push(entry.eventTimes?.[i] ?? 0);
    }
    start = end;
  }
  return { frames, times };
}

/**
 * The stream a client that did not ask for usage gets from an entry that recorded it: the
 * protocol's stripper (usage chunk dropped, `"usage": null` fields removed) when it has one,
 * else the usage event skipped.
 */
function withoutUsage(protocol: EngineProtocol, entry: CacheEntry, ends: Uint32Array): DerivedForm {
  const option = protocol.streamUsage;
  if (!option) {
    const { frames, times } = eventFrames(entry, ends, entry.usageEventIndex);
    return formOf(frames, times);
  }
  const all = eventFrames(entry, ends, undefined);
  const stripper = createUsageStripper(option, entry.body.byteLength + 1);
  const frames: Uint8Array[] = [];
  const times: number[] = [];
  all.frames.forEach((frame, i) => {
    const out = stripper.push(frame);
    if (out.byteLength === 0) return;
    frames.push(out);
    times.push(all.times[i] ?? 0);
  });
  return formOf(frames, times);
}

/** A derived stream as a plan: one buffer for instant replay, its frames and their delays otherwise. */
function paced(contentType: string, form: DerivedForm, pacing: ReplayPacing): ReplayPlan {
  if (pacing === 'instant') return { contentType, frames: [form.body] };
  const times = form.times ? Array.from(form.times) : Array.from(form.ends, () => 0);
  return { contentType, frames: framesOf(form), delaysMs: replayDelays(pacing, times) };
}

/**
 * Delay before each replayed chunk: none for instant, the recorded gaps for realtime, even gaps
 * for N tokens per second (each content event carries about one token).
 */
export function replayDelays(pacing: ReplayPacing, recordedTimes: readonly number[]): number[] {
  if (pacing === 'instant') return recordedTimes.map(() => 0);
  if (pacing === 'realtime') {
    return recordedTimes.map((t, i) => (i === 0 ? 0 : Math.max(0, t - (recordedTimes[i - 1] ?? 0))));
  }
  const gap = 1000 / pacing;
  return recordedTimes.map((_, i) => (i === 0 ? 0 : gap));
}

/** `format`: the stream entry's framing (passed apart so that only a stream entry type-checks). */
function assembledJson(protocol: EngineProtocol, entry: CacheEntry, format: FramingName): DerivedForm {
  const events = framingByName(format).decode(entry.body);
  return formOf([Buffer.from(JSON.stringify(protocol.assemble(events)))]);
}

function synthesizedStream(protocol: EngineProtocol, entry: CacheEntry, request: RequestInfo): DerivedForm {
  const answer = JSON.parse(Buffer.from(entry.body).toString('utf8')) as JsonObject;
  const framing = framingByName(protocol.streamFraming ?? 'sse');
  return formOf(protocol.synthesize(answer, request).map((event) => framing.encode(event)));
}
