import type { SseRecordedEvents } from '../sse/recorded-events.js';
import type { SseEvent } from '../sse/types.js';
import { EventTypeReader } from './event-type.js';
import { BROKEN } from './json-scan.js';
import { errorReason, isJsonObject, mapOpenAiUsage, parseJsonObject } from './openai-shared.js';
import type { JsonObject, JsonValue, StreamVerdict, Usage } from './types.js';

/**
 * The completeness gate of OpenAI Responses streams, two ways over one per-event rule
 * (judgeResponseEvent): on decoded events (inspectResponseStream) and on a recording read in
 * place (inspectResponseRecording).
 */

/** Why a response object is not a finished answer, or undefined when it is one. */
export function notCompleted(response: JsonObject): string | undefined {
  if (response.object !== 'response') return `object is ${JSON.stringify(response.object)}, not "response"`;
  if (response.status !== 'completed') return `status is ${JSON.stringify(response.status)}, not "completed"`;
  if (!Array.isArray(response.output)) return 'response has no output array';
  return undefined;
}

export function modelAndUsage(response: JsonObject): { model?: string; usage?: Usage } {
  const usage = mapOpenAiUsage(response.usage);
  return {
    ...(typeof response.model === 'string' ? { model: response.model } : {}),
    ...(usage === undefined ? {} : { usage }),
  };
}

/**
 * One event's part in the verdict, whichever way it was read: a refusal, or undefined to go on.
 * `namedError`: the SSE event name is `error`. A `response.completed` that passes is `completed`.
 */
export function judgeResponseEvent(
  data: JsonObject | undefined,
  namedError: boolean,
  i: number,
  eventName: string | undefined,
): { refused: StreamVerdict } | { completed: JsonObject } | undefined {
  const isError = namedError || data?.type === 'error';
  // The SDK throws on any event with a top-level `error`, so such a stream is never an answer either.
  const error =
    data === undefined ? undefined : (errorReason(data) ?? (isError ? stringOr(data.message) : undefined));
  if (isError || error !== undefined) {
    return { refused: { complete: false, reason: `error event at index ${i}${error ? `: ${error}` : ''}` } };
  }
  if (data === undefined) return { refused: { complete: false, reason: `event ${i} (${eventName}) is not a JSON object` } };
  if (data.type === 'response.failed' || data.type === 'response.incomplete') {
    return { refused: { complete: false, reason: `${data.type} at index ${i}${failureDetail(data.response)}` } };
  }
  if (data.type === 'response.completed') {
    if (!isJsonObject(data.response)) return { refused: { complete: false, reason: 'response.completed carries no response' } };
    const problem = notCompleted(data.response);
    if (problem !== undefined) return { refused: { complete: false, reason: `response.completed: ${problem}` } };
    return { completed: data.response };
  }
  return undefined;
}

export function inspectResponseStream(events: readonly SseEvent[]): StreamVerdict {
  let completed: JsonObject | undefined;
  // Every event is checked, even after response.completed: an error anywhere disqualifies the recording.
  for (const [i, event] of events.entries()) {
    const judged = judgeResponseEvent(parseJsonObject(event.data), event.event === 'error', i, event.event);
    if (judged === undefined) continue;
    if ('refused' in judged) return judged.refused;
    completed = judged.completed;
  }
  if (completed === undefined) return { complete: false, reason: 'no response.completed event' };
  return { complete: true, ...modelAndUsage(completed) };
}

/** Event types judgeResponseEvent acts on; any other event only has to be an error-free JSON object. */
const JUDGED_TYPES = ['error', 'response.failed', 'response.incomplete', 'response.completed'] as const;

/**
 * The Responses gate on a recording read in place. The many delta events are walked by the
 * validating cursor (json-scan.ts), which reads only the top-level `type` and checks that a
 * top-level `error` is absent or null; only the events judgeResponseEvent acts on (in a whole
 * answer, the one `response.completed`, which carries the answer) are parsed whole. Returns a
 * verdict only for a stream it proves complete, the one inspectResponseStream gives
 * (test/protocols/recording-verdicts.test.ts); otherwise undefined and the gate decodes.
 */
export function inspectResponseRecording(events: SseRecordedEvents): StreamVerdict | undefined {
  let completed: JsonObject | undefined;
  const reader = new EventTypeReader(events, JUDGED_TYPES, true);
  for (let i = 0; i < events.length; i++) {
    // Nothing may follow response.completed (the full gate refuses it), and error events end the fast path.
    if (completed !== undefined || events.eventIs(i, 'error')) return undefined;
    const judged = reader.isListed(i);
    if (judged === BROKEN) return undefined;
    if (!judged) continue;
    const data = parseJsonObject(events.data(i));
    const verdict = judgeResponseEvent(data, false, i, undefined);
    if (verdict === undefined || 'refused' in verdict) return undefined;
    completed = verdict.completed;
  }
  if (completed === undefined) return undefined;
  return { complete: true, ...modelAndUsage(completed) };
}

function failureDetail(response: JsonValue | undefined): string {
  if (!isJsonObject(response)) return '';
  const error = errorReason(response);
  if (error !== undefined) return `: ${error}`;
  const details = response.incomplete_details;
  return isJsonObject(details) && typeof details.reason === 'string' ? `: ${details.reason}` : '';
}


/** A string field's value, or '' when it is anything else. */
export function stringOr(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}
