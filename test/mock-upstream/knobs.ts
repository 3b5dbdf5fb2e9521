import type { IncomingHttpHeaders } from 'node:http';

/**
 * Test knobs, read from REQUEST HEADERS so they never take part in a cache key (a gateway
 * forwards unknown headers but keys on the body). Every knob is optional.
 *
 * | header                        | effect |
 * |-------------------------------|--------|
 * | `x-mock-words: N`             | answer length in word tokens (default 20). Each token is one content chunk. |
 * | `x-mock-delay-ms: N`          | pause before every event after the first ones (default: `defaultDelayMs` option, 0). A JSON answer waits N × chunks before it is sent, like a real non-streamed generation. |
 * | `x-mock-first-byte-delay-ms: N` | pause before the status line / headers are sent. |
 * | `x-mock-crlf: 1`              | SSE lines end in `\r\n` instead of `\n`. |
 * | `x-mock-cr: 1`                | SSE lines end in a lone `\r`. |
 * | `x-mock-split: N`             | write the SSE byte stream in N-byte network pieces, cutting events, lines and multi-byte characters anywhere. |
 * | `x-mock-keepalive: 1`         | a `: keep-alive` comment between events and one after the terminal event. |
 * | `x-mock-done-in-content: 1`   | the answer text contains the protocol's terminal marker (`data: [DONE]\n\n`, `event: message_stop`, `event: response.completed`) inside JSON content, and the stream then ends right after that chunk, before any real terminal event. |
 * | `x-mock-error-event: 1`       | halfway through the content, an error event (OpenAI `data: {"error":...}`, Anthropic `event: error`, Responses `error` + `response.failed`), then the stream ends. |
 * | `x-mock-truncate: N`          | end the response cleanly (chunked terminator) after N content chunks, with no terminal event. For JSON: send only the first N bytes. |
 * | `x-mock-reset: N`             | destroy the socket after N content chunks (JSON: after N bytes). |
 * | `x-mock-status: CODE`         | answer with that status: non-2xx with a protocol-shaped error body (JSON even for streams, as real APIs do); 2xx with the normal answer. |
 * | `x-mock-error-as-sse: 1`      | status 200, `text/event-stream`, and an error event as the only event. |
 * | `x-mock-tool-call: 1`         | answer with a tool call when the request has tools (also when the last user turn says "call a tool"). |
 * | `x-mock-reasoning: 1`         | add reasoning: chat `reasoning_content` deltas, Anthropic `thinking` block, Responses reasoning summary item. |
 * | `x-mock-refusal: 1`           | answer with a refusal (chat `refusal`, Responses refusal part, Anthropic `stop_reason: "refusal"`). |
 * | `x-mock-hang: 1`              | send status and headers, then nothing, forever (idle-timeout tests). |
 * | `x-mock-endless: 1`           | stream content forever, one chunk per max(delay, 1) ms (size/duration limit tests). |
 * | `x-mock-unique: 1`            | mix the request number into the answer, so every upstream call differs (tells a cache replay from a fresh call). |
 * | `x-mock-bytes: N`             | GET /v1/files/{id}/content: the download's size (default 1024), written no faster than the socket takes it. |
 * | `x-mock-gemini-finish: REASON` | Gemini: the last response's finishReason (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, MALFORMED_FUNCTION_CALL...). |
 * | `x-mock-gemini-block: REASON`  | Gemini: the prompt is blocked (`promptFeedback.blockReason`, no candidates). |
 * | `x-mock-gemini-unfinished: I`  | Gemini: candidate I (with `generationConfig.candidateCount`) stops without a finishReason; the stream still ends cleanly. |
 */
export interface Knobs {
  words: number;
  delayMs: number;
  firstByteDelayMs: number;
  lineEnding: '\n' | '\r\n' | '\r';
  splitBytes: number;
  keepalive: boolean;
  doneInContent: boolean;
  errorEvent: boolean;
  truncateAfter: number | undefined;
  resetAfter: number | undefined;
  status: number | undefined;
  errorAsSse: boolean;
  toolCall: boolean;
  reasoning: boolean;
  refusal: boolean;
  hang: boolean;
  endless: boolean;
  unique: boolean;
  geminiFinish: string | undefined;
  geminiBlock: string | undefined;
  geminiUnfinished: number | undefined;
}

export const DEFAULT_WORDS = 20;

/** A knob header with a value the mock cannot use; answered with 400 so the test author sees it. */
export class KnobError extends Error {
  readonly code = 'MOCK_BAD_KNOB';
  constructor(
    readonly header: string,
    message: string,
  ) {
    super(`${header}: ${message}`);
    this.name = 'KnobError';
  }
}

export function parseKnobs(headers: IncomingHttpHeaders, defaults: { delayMs: number }): Knobs {
  const crlf = flag(headers, 'x-mock-crlf');
  const cr = flag(headers, 'x-mock-cr');
  if (crlf && cr) throw new KnobError('x-mock-cr', 'cannot be combined with x-mock-crlf');
  const status = integer(headers, 'x-mock-status');
  if (status !== undefined && (status < 200 || status > 599)) {
    throw new KnobError('x-mock-status', 'must be an HTTP status between 200 and 599');
  }
  const split = integer(headers, 'x-mock-split') ?? 0;
  return {
    words: integer(headers, 'x-mock-words') ?? DEFAULT_WORDS,
    delayMs: integer(headers, 'x-mock-delay-ms') ?? defaults.delayMs,
    firstByteDelayMs: integer(headers, 'x-mock-first-byte-delay-ms') ?? 0,
    lineEnding: crlf ? '\r\n' : cr ? '\r' : '\n',
    splitBytes: split,
    keepalive: flag(headers, 'x-mock-keepalive'),
    doneInContent: flag(headers, 'x-mock-done-in-content'),
    errorEvent: flag(headers, 'x-mock-error-event'),
    truncateAfter: integer(headers, 'x-mock-truncate'),
    resetAfter: integer(headers, 'x-mock-reset'),
    status,
    errorAsSse: flag(headers, 'x-mock-error-as-sse'),
    toolCall: flag(headers, 'x-mock-tool-call'),
    reasoning: flag(headers, 'x-mock-reasoning'),
    refusal: flag(headers, 'x-mock-refusal'),
    hang: flag(headers, 'x-mock-hang'),
    endless: flag(headers, 'x-mock-endless'),
    unique: flag(headers, 'x-mock-unique'),
    geminiFinish: header(headers, 'x-mock-gemini-finish') || undefined,
    geminiBlock: header(headers, 'x-mock-gemini-block') || undefined,
    geminiUnfinished: integer(headers, 'x-mock-gemini-unfinished'),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function flag(headers: IncomingHttpHeaders, name: string): boolean {
  const value = header(headers, name);
  if (value === undefined || value === '' || value === '0' || value.toLowerCase() === 'false') return false;
  return true;
}

function integer(headers: IncomingHttpHeaders, name: string): number | undefined {
  const value = header(headers, name);
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new KnobError(name, `expected a non-negative integer, got "${value}"`);
  return parsed;
}
