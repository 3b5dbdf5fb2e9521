import type { SseEvent } from '../sse/types.js';
import type { SseRecordedEvents } from '../sse/recorded-events.js';
import { isJsonObject, mergeAnthropicUsage, modelAndUsage } from './anthropic-shared.js';
import { EventTypeReader } from './event-type.js';
import { BROKEN } from './json-scan.js';
import type { JsonObject, StreamVerdict } from './types.js';

/**
 * The completeness gate of Anthropic Messages streams, two ways over one tally: on decoded
 * events (inspectMessageStream) and on a recording read in place (inspectMessageRecording).
 */

/** The event's JSON payload, or undefined when it is not a JSON object. */
export function parseEventData(event: Pick<SseEvent, 'data'>): JsonObject | undefined {
  try {
    const data: unknown = JSON.parse(event.data);
    return isJsonObject(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the Messages stream verdict accumulates, whichever way the events were read: parsed whole
 * (inspectMessageStream) or scanned in place (inspectMessageRecording). Only the event types in
 * TALLIED_TYPES change it; every other event (deltas, pings, unknown types) is only checked to be
 * a JSON object.
 */
export class MessageStreamTally {
  stopped = false;
  private start: JsonObject | undefined;
  private stopReason = false;
  private usage: JsonObject = {};
  private readonly openBlocks = new Set<number>();

  /** Event `i`, parsed; a verdict when it ends the stream's chances, else undefined. */
  event(data: JsonObject, i: number): StreamVerdict | undefined {
    switch (data.type) {
      case 'error':
        return { complete: false, reason: `error event at index ${i}` };
      case 'message_start':
        if (!isJsonObject(data.message)) return { complete: false, reason: 'message_start carries no message' };
        this.start = data.message;
        this.usage = mergeAnthropicUsage(this.start.usage, undefined);
        break;
      case 'content_block_start':
        if (typeof data.index === 'number') this.openBlocks.add(data.index);
        break;
      case 'content_block_stop':
        if (typeof data.index === 'number') this.openBlocks.delete(data.index);
        break;
      case 'message_delta':
        if (isJsonObject(data.delta) && typeof data.delta.stop_reason === 'string') this.stopReason = true;
        this.usage = mergeAnthropicUsage(this.usage, data.usage);
        break;
      case 'message_stop':
        if (this.start === undefined) return { complete: false, reason: 'message_stop without message_start' };
        if (!this.stopReason) return { complete: false, reason: 'message_stop without a message_delta stop_reason' };
        if (this.openBlocks.size > 0) return { complete: false, reason: 'message_stop with a content block still open' };
        this.stopped = true;
        break;
    }
    return undefined;
  }

  verdict(): StreamVerdict {
    const { start, stopped, stopReason, usage } = this;
    if (stopped && start !== undefined) return { complete: true, ...modelAndUsage({ ...start, usage }) };
    if (start === undefined) return { complete: false, reason: 'no message_start event' };
    if (!stopReason) return { complete: false, reason: 'no message_delta with a stop_reason' };
    return { complete: false, reason: 'no message_stop event' };
  }
}

/** The event types MessageStreamTally.event acts on (its `switch` cases). */
export const TALLIED_TYPES: ReadonlySet<string> = new Set([
  'error',
  'message_start',
  'content_block_start',
  'content_block_stop',
  'message_delta',
  'message_stop',
]);

export function inspectMessageStream(events: readonly SseEvent[]): StreamVerdict {
  const tally = new MessageStreamTally();
  // Every event is checked, even after message_stop: an error anywhere disqualifies the recording.
  for (const [i, event] of events.entries()) {
    if (event.event === 'error') return { complete: false, reason: `error event at index ${i}` };
    const data = parseEventData(event);
    if (data === undefined)
      return { complete: false, reason: `event ${i} (${event.event}) is not a JSON object` };
    if (tally.stopped) continue;
    const failed = tally.event(data, i);
    if (failed) return failed;
  }
  return tally.verdict();
}

/**
 * The Messages gate on a recording read in place. Most events of a stream are
 * `content_block_delta`s that the tally ignores: their JSON is walked by the validating cursor
 * (json-scan.ts), which reads only the top-level `type`, and is never built. The few events the
 * tally acts on (TALLIED_TYPES: one `message_start`, the block starts and stops, `message_delta`,
 * `message_stop`) are parsed whole and go through the same MessageStreamTally.event as in
 * inspectMessageStream, so the verdict is the same (test/protocols/recording-verdicts.test.ts).
 * (EventTypeReader, which also skips the walk for an event that repeats, with other text, the
 * last untallied event read in full.)
 *
 * Returns a verdict only for a stream it proves complete; otherwise (an error, a malformed
 * event, an escaped `type`, events after message_stop) undefined, and the gate asks
 * inspectMessageStream, which words the reason.
 */
export function inspectMessageRecording(events: SseRecordedEvents): StreamVerdict | undefined {
  const tally = new MessageStreamTally();
  const reader = new EventTypeReader(events, TALLIED_TYPES, false);
  for (let i = 0; i < events.length; i++) {
    // After message_stop nothing may follow (the full gate refuses it); before it, `stopped` is false.
    if (tally.stopped || events.eventIs(i, 'error')) return undefined;
    const tallied = reader.isListed(i);
    if (tallied === BROKEN) return undefined;
    if (!tallied) continue;
    const data = parseEventData({ data: events.data(i) });
    if (data === undefined || tally.event(data, i) !== undefined) return undefined;
  }
  const verdict = tally.verdict();
  return verdict.complete ? verdict : undefined;
}
