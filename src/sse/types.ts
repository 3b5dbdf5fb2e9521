/**
 * Shared SSE types. The codecs in this folder are pure and synchronous: no I/O, no timers, no logging.
 */

/** One dispatched server-sent event, with the byte span of its frame in the stream it was decoded from. */
export interface SseEvent {
  /** The `event` field, or undefined when the frame had none (WHATWG's default type is "message"). */
  event: string | undefined;
  /** `data` lines joined with "\n". */
  data: string;
  /** The `id` field (ignored, i.e. undefined, when it contains NUL). */
  id: string | undefined;
  /** The `retry` field when it was all ASCII digits. */
  retry: number | undefined;
  /** Absolute byte offset where this event's frame starts (after any BOM / previous blank line). */
  start: number;
  /** Absolute byte offset just past the blank line that terminated the frame. */
  end: number;
}

/** What a caller wants encoded; `data` may contain newlines (emitted as several `data:` lines). */
export interface SseEventInit {
  event?: string | undefined;
  data: string;
  id?: string | undefined;
  retry?: number | undefined;
}
