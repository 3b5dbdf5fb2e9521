/**
 * SSE encoder: the wire format OpenAI and Anthropic use (`event: X\ndata: Y\n\n`, a space after
 * each colon). Used to synthesize streams from stored JSON and by the mock upstream in tests.
 */
import { SseEncodeError } from './errors.js';
import type { SseEventInit } from './types.js';

const LINE_BREAK = /\r\n|\r|\n/;
const textEncoder = new TextEncoder();

/** One event as one frame, ending with the blank line. */
export function encodeSseEvent(init: SseEventInit): Uint8Array {
  return textEncoder.encode(frameText(init));
}

/** Several events as consecutive frames, in one buffer. */
export function encodeSseEvents(list: readonly SseEventInit[]): Uint8Array {
  let text = '';
  for (const init of list) text += frameText(init);
  return textEncoder.encode(text);
}

function frameText(init: SseEventInit): string {
  let text = '';
  if (init.event !== undefined) {
    rejectLineBreaks('event', init.event);
    text += `event: ${init.event}\n`;
  }
  if (init.id !== undefined) {
    rejectLineBreaks('id', init.id);
    // A decoder ignores an id containing NUL, so writing one would silently lose it.
    if (init.id.includes('\0')) {
      throw new SseEncodeError('SSE_INVALID_FIELD', 'id', 'SSE id must not contain NUL');
    }
    text += `id: ${init.id}\n`;
  }
  if (init.retry !== undefined) {
    if (!Number.isSafeInteger(init.retry) || init.retry < 0) {
      throw new SseEncodeError(
        'SSE_INVALID_FIELD',
        'retry',
        `SSE retry must be a non-negative integer, got ${String(init.retry)}`,
      );
    }
    text += `retry: ${init.retry}\n`;
  }
  const data = init.data;
  if (data.indexOf('\n') === -1 && data.indexOf('\r') === -1) {
    text += data === '' ? 'data:\n' : `data: ${data}\n`;
  } else {
    for (const line of data.split(LINE_BREAK)) text += line === '' ? 'data:\n' : `data: ${line}\n`;
  }
  return `${text}\n`;
}

function rejectLineBreaks(field: 'event' | 'id', value: string): void {
  if (value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1) {
    throw new SseEncodeError('SSE_INVALID_FIELD', field, `SSE ${field} must not contain CR or LF`);
  }
}
