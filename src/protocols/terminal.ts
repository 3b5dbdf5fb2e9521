import type { SseEvent } from '../sse/types.js';

/**
 * DESIGN.md rules 1 and 7 at the end of a stream: the terminal event is the last thing a
 * streaming client acts on (the SDKs stop reading there), so it must also be the last event of
 * a stored recording, and JSON assembled from a recording must never see past it.
 */

export type TerminalTest = (event: SseEvent) => boolean;

/** Index of the first terminal event, or -1 when there is none. */
export function terminalIndex(events: readonly SseEvent[], isTerminal: TerminalTest): number {
  for (let i = 0; i < events.length; i++) if (isTerminal(events[i] as SseEvent)) return i;
  return -1;
}

/** Why a recording is refused because events follow its terminal event; undefined when none do. */
export function eventsAfterTerminal(events: readonly SseEvent[], isTerminal: TerminalTest): string | undefined {
  const at = terminalIndex(events, isTerminal);
  if (at < 0 || at === events.length - 1) return undefined;
  const extra = events.length - 1 - at;
  return `${extra} event${extra === 1 ? '' : 's'} after the terminal event (index ${at})`;
}

/** The events a streaming client saw: up to and including the first terminal event (all when none). */
export function throughTerminal(events: readonly SseEvent[], isTerminal: TerminalTest): readonly SseEvent[] {
  const at = terminalIndex(events, isTerminal);
  return at < 0 ? events : events.slice(0, at + 1);
}

/**
 * A terminal test by the `type` of the event's JSON data (Anthropic, Responses). The substring
 * check first keeps the gate from parsing every event twice; the parse decides.
 */
export function dataTypeIs(type: string): TerminalTest {
  const needle = `"${type}"`;
  return (event) => {
    if (!event.data.includes(needle)) return false;
    try {
      const data: unknown = JSON.parse(event.data);
      return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === type;
    } catch {
      return false;
    }
  };
}
