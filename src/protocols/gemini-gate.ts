import type { SseEvent } from '../sse/types.js';
import { isJsonObject } from './anthropic-shared.js';
import { geminiUsage } from './gemini-shared.js';
import type { JsonObject, JsonVerdict, RequestInfo, StreamVerdict } from './types.js';

/**
 * The completeness rule of Gemini's generateContent answers. With `alt=sse` every event is a
 * whole GenerateContentResponse and there is no `[DONE]`: a stream is complete only when every
 * candidate has finished (and the body ended cleanly, which the engine proves before the gate
 * runs). With several candidates (`generationConfig.candidateCount`) each event holds the
 * candidates still going, and they finish in different events: the answer ends with the event
 * that finishes the last of them, where every candidate index seen in the stream, and each of the
 * `candidateCount` the request asked for, has had its `finishReason` (FinishTracker). Only `STOP` may be stored, and `MAX_TOKENS` when the
 * request set its own `generationConfig.maxOutputTokens` (the answer is then what that request
 * asked for). `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`,
 * `MALFORMED_FUNCTION_CALL`, `OTHER`..., a `promptFeedback.blockReason`, an `error` object
 * anywhere, or an end without a finish reason are never stored: a retry may well answer.
 *
 * The same rule judges the JSON answer (one response) and the streamed JSON array of
 * `streamGenerateContent` without `alt=sse` (one response per element).
 */

/**
 * Whether every candidate of one response has a finish reason. With one candidate that response
 * ends the answer; with several, only FinishTracker knows (earlier events may have finished others).
 */
export function isFinalResponse(data: JsonObject): boolean {
  const candidates = data.candidates;
  if (!Array.isArray(candidates) || candidates.length === 0) return false;
  return candidates.every((c) => isJsonObject(c) && typeof c.finishReason === 'string');
}

/**
 * Candidates seen and finished over a whole answer, response by response. A candidate is known by
 * its `index` (its position in the response when absent, as the SDKs read it).
 */
export class FinishTracker {
  readonly #seen = new Set<number>();
  readonly #finished = new Set<number>();

  /** `expected`: the candidates the request asked for (generationConfig.candidateCount, else 1). */
  constructor(private readonly expected = 1) {}

  /** Take one response; true when, after it, every candidate has finished. */
  add(data: JsonObject): boolean {
    const candidates = Array.isArray(data.candidates) ? data.candidates : [];
    for (const [position, candidate] of candidates.entries()) {
      if (!isJsonObject(candidate)) continue;
      const index = typeof candidate.index === 'number' ? candidate.index : position;
      this.#seen.add(index);
      if (typeof candidate.finishReason === 'string') this.#finished.add(index);
    }
    return this.done();
  }

  done(): boolean {
    if (this.#seen.size === 0) return false;
    for (const index of this.#seen) if (!this.#finished.has(index)) return false;
    for (let index = 0; index < this.expected; index++) if (!this.#finished.has(index)) return false;
    return true;
  }

  /** The candidates not finished, for a verdict's reason. */
  unfinished(): number[] {
    const all = new Set([...this.#seen, ...Array.from({ length: this.expected }, (_, i) => i)]);
    return [...all].filter((index) => !this.#finished.has(index)).sort((a, b) => a - b);
  }
}

/** The candidates a request asked for: generationConfig.candidateCount, 1 when unset. */
export function expectedCandidates(request: RequestInfo | undefined): number {
  const config = request?.body.generationConfig;
  const count = isJsonObject(config) ? config.candidateCount : undefined;
  return typeof count === 'number' && Number.isInteger(count) && count > 1 ? count : 1;
}

/** The responses up to and including the one that finishes every candidate (all when none does). */
export function throughFinal<T>(items: readonly T[], dataOf: (item: T) => JsonObject | undefined): readonly T[] {
  const tracker = new FinishTracker();
  for (const [i, item] of items.entries()) {
    const data = dataOf(item);
    if (data !== undefined && tracker.add(data)) return items.slice(0, i + 1);
  }
  return items;
}

/** A stream event's JSON payload, or undefined when it is not a JSON object. */
export function responseOf(event: Pick<SseEvent, 'data'>): JsonObject | undefined {
  try {
    const data: unknown = JSON.parse(event.data);
    return isJsonObject(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

function allowsMaxTokens(request: RequestInfo | undefined): boolean {
  const config = request?.body.generationConfig;
  return isJsonObject(config) && typeof config.maxOutputTokens === 'number';
}

/** Why one response disqualifies the answer, or undefined when it does not. */
function refusal(data: JsonObject, i: number, request: RequestInfo | undefined): string | undefined {
  if (data.error !== undefined) return `error object in response ${i}`;
  const feedback = data.promptFeedback;
  if (isJsonObject(feedback) && typeof feedback.blockReason === 'string') {
    return `prompt blocked (promptFeedback.blockReason ${feedback.blockReason})`;
  }
  const candidates = Array.isArray(data.candidates) ? data.candidates : [];
  for (const candidate of candidates) {
    if (!isJsonObject(candidate)) return `response ${i} has a candidate that is not an object`;
    const reason = candidate.finishReason;
    if (reason === undefined || reason === null) continue;
    if (reason === 'STOP') continue;
    if (reason === 'MAX_TOKENS' && allowsMaxTokens(request)) continue;
    return `finishReason ${String(reason)}`;
  }
  return undefined;
}

/** The verdict on a whole answer given as its responses in order (stream events or array elements). */
export function judgeResponses(
  responses: ReadonlyArray<JsonObject | undefined>,
  request: RequestInfo | undefined,
): StreamVerdict {
  let usage: JsonObject | undefined;
  let model: string | undefined;
  let finalAt = -1;
  const tracker = new FinishTracker(expectedCandidates(request));
  for (const [i, data] of responses.entries()) {
    if (data === undefined) return { complete: false, reason: `response ${i} is not a JSON object` };
    const refused = refusal(data, i, request);
    if (refused !== undefined) return { complete: false, reason: refused };
    if (finalAt >= 0) return { complete: false, reason: `response ${i} follows the final response (${finalAt})` };
    if (isJsonObject(data.usageMetadata)) usage = data.usageMetadata;
    if (typeof data.modelVersion === 'string') model = data.modelVersion;
    if (tracker.add(data)) finalAt = i;
  }
  if (responses.length === 0) return { complete: false, reason: 'no response' };
  if (finalAt < 0) {
    const unfinished = tracker.unfinished();
    return {
      complete: false,
      reason:
        unfinished.length === 0
          ? 'no candidate in the answer'
          : `candidate${unfinished.length === 1 ? '' : 's'} ${unfinished.join(', ')} never finished (no finishReason)`,
    };
  }
  const summary = geminiUsage(usage);
  return {
    complete: true,
    ...(model === undefined ? {} : { model }),
    ...(summary === undefined ? {} : { usage: summary }),
  };
}

export function inspectGeminiStream(events: readonly SseEvent[], request?: RequestInfo): StreamVerdict {
  return judgeResponses(
    events.map((event) => responseOf(event)),
    request,
  );
}

/**
 * A 200 body: one GenerateContentResponse, or, for `streamGenerateContent` without `alt=sse`,
 * the array of them (`array`).
 */
export function inspectGeminiJson(body: unknown, request: RequestInfo | undefined, array: boolean): JsonVerdict {
  if (array !== Array.isArray(body)) {
    return { ok: false, reason: array ? 'body is not a JSON array of responses' : 'body is not a JSON object' };
  }
  const list = Array.isArray(body) ? body : [body];
  const verdict = judgeResponses(
    list.map((item) => (isJsonObject(item) ? item : undefined)),
    request,
  );
  if (!verdict.complete) return { ok: false, reason: verdict.reason };
  return {
    ok: true,
    ...(verdict.model === undefined ? {} : { model: verdict.model }),
    ...(verdict.usage === undefined ? {} : { usage: verdict.usage }),
  };
}
