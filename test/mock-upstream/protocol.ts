import type { JsonRecord } from './answer.js';
import type { Knobs } from './knobs.js';

/** One server-sent event before framing. `data` is a single line (JSON never holds raw newlines). */
export interface SseEvent {
  event?: string;
  data: string;
  /**
   * True for events that carry generated content (text / argument / thinking deltas).
   * The truncate, reset and error-event knobs count these, so "after N chunks" means
   * after N pieces of the answer whatever the protocol's bookkeeping events are.
   */
  delta?: boolean;
  /** True from the first closing event on (finish chunk, usage, terminal event). */
  tail?: boolean;
}

/** Everything the stream writer needs to play one answer, and its failure variants. */
export interface StreamPlan {
  /** The complete, well-formed stream in order. */
  events: SseEvent[];
  /** Text found in the data of the delta that carries the x-mock-done-in-content marker. */
  doneMarker: string;
  /** Protocol-shaped error event(s); `sequenceStart` numbers them for protocols that count events. */
  errorEvents(sequenceStart: number): SseEvent[];
  /** x-mock-endless: head events, then deltas forever. */
  endless(): Iterator<SseEvent>;
}

export type MockReply =
  | { kind: 'json'; body: unknown; contentChunks: number }
  | { kind: 'stream'; plan: StreamPlan };

export interface RequestContext {
  body: JsonRecord;
  knobs: Knobs;
  /** Hex hash of the body (minus transport-only fields), salted by x-mock-unique. */
  hash: string;
  stream: boolean;
}

export type ErrorShape = 'openai' | 'anthropic';

export interface MockProtocol {
  readonly errorShape: ErrorShape;
  /** Build the answer; throws MockRequestError for a request the real API would reject. */
  reply(context: RequestContext): MockReply;
}

/** A request the real API would refuse (missing field, bad value): answered in the protocol's error shape. */
export class MockRequestError extends Error {
  readonly code = 'MOCK_INVALID_REQUEST';
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'MockRequestError';
  }
}

export function sse(data: unknown, event?: string): SseEvent {
  const out: SseEvent = { data: JSON.stringify(data) };
  if (event !== undefined) out.event = event;
  return out;
}

export function deltaEvent(data: unknown, event?: string): SseEvent {
  const out = sse(data, event);
  out.delta = true;
  return out;
}

export function tailEvent(data: unknown, event?: string): SseEvent {
  const out = sse(data, event);
  out.tail = true;
  return out;
}

export function requireString(body: JsonRecord, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new MockRequestError(400, `Missing required parameter: '${field}'.`, field);
  }
  return value;
}

export function optionalInteger(
  body: JsonRecord,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new MockRequestError(
      400,
      `Invalid '${field}': expected an integer between ${min} and ${max}.`,
      field,
    );
  }
  return value;
}
