import type { SseEvent, SseEventInit } from '../sse/types.js';
import { ProtocolError } from './errors.js';
import { eventsAfterTerminal, throughTerminal } from './terminal.js';
import type { JsonObject, JsonValue, JsonVerdict, RequestCheck, RequestInfo, StreamVerdict, Usage } from './types.js';

/**
 * Helpers shared by the OpenAI protocols (chat, legacy completions, embeddings, responses):
 * the error body, usage mapping, request checks common to every OpenAI endpoint, and safe JSON
 * parsing for recorded stream events.
 */

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export function openaiErrorBody(
  message: string,
  type: string,
  code: string | null,
  param?: string | null,
): JsonObject {
  return { error: { message, type, param: param ?? null, code } };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse that never throws: recorded streams may hold anything, and a bad event is a verdict, not a crash. */
export function parseJsonObject(data: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function tokenCount(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * OpenAI usage in any of its spellings, as Sluice's `Usage`: chat/completions/embeddings say
 * `prompt_tokens`/`completion_tokens`, the Responses API says `input_tokens`/`output_tokens`.
 * Embeddings have no output, so a missing output count is 0 as long as the input count exists.
 */
export function mapOpenAiUsage(value: unknown): Usage | undefined {
  if (!isJsonObject(value)) return undefined;
  const inputTokens = tokenCount(value.prompt_tokens) ?? tokenCount(value.input_tokens);
  if (inputTokens === undefined) return undefined;
  const outputTokens = tokenCount(value.completion_tokens) ?? tokenCount(value.output_tokens) ?? 0;
  return { inputTokens, outputTokens };
}

/** A failed validation, shaped the way every OpenAI protocol reports it. */
export function badRequest(message: string, param: string): RequestCheck {
  return { ok: false, status: 400, message, param };
}

/** What every OpenAI request body must satisfy, before the endpoint's own fields are checked. */
export type OpenAiBodyCheck =
  | { ok: true; body: JsonObject; model: string; stream: boolean }
  | { ok: false; failure: RequestCheck };

export function checkOpenAiBody(body: unknown): OpenAiBodyCheck {
  if (!isJsonObject(body)) {
    return { ok: false, failure: badRequest('The request body must be a JSON object.', 'body') };
  }
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) {
    return { ok: false, failure: badRequest('`model` must be a non-empty string.', 'model') };
  }
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    return { ok: false, failure: badRequest('`stream` must be a boolean (true or false).', 'stream') };
  }
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isJsonObject(streamOptions)) {
    return {
      ok: false,
      failure: badRequest(
        '`stream_options` must be an object, e.g. {"include_usage": true}.',
        'stream_options',
      ),
    };
  }
  return { ok: true, body, model, stream: stream === true };
}

/** `stream_options.include_usage === true`: the client asked for the usage chunk at the end of a stream. */
export function wantsStreamUsage(body: JsonObject): boolean {
  const options = body.stream_options;
  return isJsonObject(options) && options.include_usage === true;
}

/**
 * The request an OpenAI endpoint accepts once its own fields passed: the common checks' body,
 * model and stream. `wantsUsage`: whether the client asked for a usage chunk (chat and legacy
 * completions; see wantsStreamUsage).
 */
export function openAiRequest(common: Extract<OpenAiBodyCheck, { ok: true }>, wantsUsage = false): RequestCheck {
  return {
    ok: true,
    request: { body: common.body, model: common.model, stream: common.stream, wantsStreamUsage: wantsUsage },
  };
}

/**
 * The message of an error object found in a stream or body (`{"error": {...}}`), for verdict reasons.
 * Returns undefined when there is no error (a `null` error field, as some providers send, is no error).
 */
export function errorReason(value: JsonObject): string | undefined {
  if (!Object.hasOwn(value, 'error') || value.error === null) return undefined;
  const error = value.error;
  if (isJsonObject(error) && typeof error.message === 'string') return error.message;
  if (typeof error === 'string') return error;
  return 'unspecified error';
}

/*
 * Chat completions and legacy completions share their stream shape: `data: <chunk>` events with
 * `choices[]` (each with an `index` and, at the end, a `finish_reason`), an optional usage chunk
 * with `choices: []`, and the terminal `data: [DONE]`.
 */

/** OpenAI's terminal event data. Compared to the whole `data` of an event, never searched for. */
export const OPENAI_DONE = '[DONE]';

export function objectsIn(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

/** OpenAI's terminal event: the whole `data` is `[DONE]`. */
export function isOpenAiDone(event: SseEvent): boolean {
  return event.data === OPENAI_DONE;
}

/**
 * What the choice-stream verdict accumulates, whichever way the chunks were read: parsed whole
 * (inspectChoiceStream) or scanned in place (choice-stream.ts). One tally, so the two readers
 * can differ only in how they read a chunk's facts, never in what the facts mean.
 */
export class ChoiceStreamTally {
  done = false;
  private chunks = 0;
  private model: string | undefined;
  private usage: Usage | undefined;
  private usageEventIndex: number | undefined;
  private readonly finished = new Map<number, boolean>();

  /** Whether a chunk's model was taken already (later ones do not count). */
  get hasModel(): boolean {
    return this.model !== undefined;
  }

  /** A choice of the current chunk: its numeric `index`, and whether `finish_reason` is a string. */
  choice(index: number, hasFinish: boolean): void {
    this.finished.set(index, (this.finished.get(index) ?? false) || hasFinish);
  }

  /**
   * The rest of chunk `i`: its `model` when a string, its mapped `usage`, and whether its
   * `choices` is an empty array (only such a chunk carries nothing but usage, so only it may be
   * dropped at replay).
   */
  chunk(i: number, model: string | undefined, usage: Usage | undefined, emptyChoices: boolean): void {
    this.chunks++;
    if (this.model === undefined && model !== undefined) this.model = model;
    if (usage) {
      this.usage = usage;
      if (emptyChoices) this.usageEventIndex = i;
    }
  }

  verdict(): StreamVerdict {
    if (!this.done) return { complete: false, reason: 'stream ended without the terminal `data: [DONE]` event' };
    if (this.chunks === 0) return { complete: false, reason: 'stream had no chunks before `data: [DONE]`' };
    if (this.finished.size === 0) return { complete: false, reason: 'stream had no choices' };
    for (const [index, hasFinish] of this.finished) {
      if (!hasFinish) return { complete: false, reason: `choice ${index} never got a finish_reason` };
    }
    const { model, usage, usageEventIndex } = this;
    return {
      complete: true,
      ...(model !== undefined ? { model } : {}),
      ...(usage ? { usage } : {}),
      ...(usageEventIndex !== undefined ? { usageEventIndex } : {}),
    };
  }
}

/** The completeness gate for choice streams (chat and legacy completions), on decoded events. */
export function inspectChoiceStream(events: readonly SseEvent[]): StreamVerdict {
  const trailing = eventsAfterTerminal(events, isOpenAiDone);
  if (trailing !== undefined) return { complete: false, reason: trailing };
  const tally = new ChoiceStreamTally();
  for (const [i, event] of events.entries()) {
    if (event.data === OPENAI_DONE) {
      tally.done = true;
      continue;
    }
    if (event.event === 'error') return { complete: false, reason: `error event at index ${i}` };
    const chunk = parseJsonObject(event.data);
    if (!chunk) return { complete: false, reason: `event ${i} is not a JSON object` };
    const error = errorReason(chunk);
    if (error !== undefined) return { complete: false, reason: `error in event ${i}: ${error}` };
    for (const choice of objectsIn(chunk.choices)) {
      if (typeof choice.index === 'number') tally.choice(choice.index, typeof choice.finish_reason === 'string');
    }
    const model = typeof chunk.model === 'string' ? chunk.model : undefined;
    const emptyChoices = Array.isArray(chunk.choices) && chunk.choices.length === 0;
    tally.chunk(i, model, mapOpenAiUsage(chunk.usage), emptyChoices);
  }
  return tally.verdict();
}

/** Whether a 200 body is a real choice answer with the given `object` (`chat.completion`, `text_completion`). */
export function inspectChoiceJson(body: unknown, object: string): JsonVerdict {
  if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
  const error = errorReason(body);
  if (error !== undefined) return { ok: false, reason: `error body: ${error}` };
  if (body.object !== object) return { ok: false, reason: `\`object\` is not "${object}"` };
  if (!Array.isArray(body.choices) || body.choices.length === 0) return { ok: false, reason: 'no choices' };
  for (const [i, choice] of body.choices.entries()) {
    if (!isJsonObject(choice) || typeof choice.finish_reason !== 'string') {
      return { ok: false, reason: `choice ${i} has no finish_reason` };
    }
  }
  const usage = mapOpenAiUsage(body.usage);
  return {
    ok: true,
    ...(typeof body.model === 'string' ? { model: body.model } : {}),
    ...(usage ? { usage } : {}),
  };
}

/**
 * Chunk framing for synthesized choice streams. With `include_usage`, OpenAI puts `usage: null`
 * on every chunk and the usage on a last `choices: []` chunk; without it, no `usage` key at all.
 */
export function choiceStreamFrames(
  answer: JsonObject,
  chunkObject: string,
  choiceChunks: JsonObject[],
  withUsage: boolean,
): SseEventInit[] {
  const { choices: _choices, usage, ...top } = answer;
  const includeUsage = withUsage && isJsonObject(usage);
  const frame = (chunkChoices: JsonObject[], chunkUsage: JsonValue): SseEventInit => ({
    data: JSON.stringify({
      ...top,
      object: chunkObject,
      choices: chunkChoices,
      ...(includeUsage ? { usage: chunkUsage } : {}),
    }),
  });
  const events = choiceChunks.map((choice) => frame([choice], null));
  if (includeUsage && usage !== undefined) events.push(frame([], usage));
  events.push({ data: OPENAI_DONE });
  return events;
}

/**
 * The answer-level fields of a choice stream, folded the way both choice endpoints fold them:
 * every parseable, error-free chunk up to `data: [DONE]`, the last value of each top-level field
 * winning, `usage` only where it is not null (the `usage: null` include_usage puts on every
 * chunk is not the answer's usage), and without the stream-only `object` and `obfuscation`.
 * `onChoice` receives each choice that has a numeric `index`. Undefined when no chunk parsed.
 */
function foldChoiceChunks(
  events: readonly SseEvent[],
  onChoice: (choice: JsonObject, index: number) => void,
): JsonObject | undefined {
  let top: JsonObject | undefined;
  for (const event of throughTerminal(events, isOpenAiDone)) {
    if (event.data === OPENAI_DONE) continue;
    const chunk = parseJsonObject(event.data);
    if (!chunk || errorReason(chunk) !== undefined) continue;
    // `obfuscation` is stream-only padding against length side channels; it is not part of the answer.
    const { choices, object: _object, obfuscation: _obfuscation, usage, ...rest } = chunk;
    top = top ? Object.assign(top, rest) : { ...rest };
    if (usage !== undefined && usage !== null) top.usage = usage;
    for (const choice of objectsIn(choices)) {
      if (typeof choice.index === 'number') onChoice(choice, choice.index);
    }
  }
  return top;
}

/** What every choice of a choice stream keeps while it is folded; an endpoint adds its own fields. */
export interface ChoiceStateBase {
  index: number;
  finishReason: JsonValue;
  /** Unknown choice-level fields; the last value wins, as in the SDK. */
  extra: JsonObject;
}

/**
 * A choice stream folded into one state per choice `index`, in index order, and the folded
 * top-level fields. Each choice's `finish_reason` (the last non-empty string) and its unknown
 * fields are kept here; `apply` takes the endpoint's own member (`field`: chat's `delta`,
 * completions' `text`) and its `logprobs`, whose shapes differ between the two.
 */
export function foldChoiceStates<S extends ChoiceStateBase>(
  events: readonly SseEvent[],
  field: 'delta' | 'text',
  create: (index: number) => S,
  apply: (state: S, value: JsonValue | undefined, logprobs: JsonValue | undefined) => void,
  streamName: string,
): { top: JsonObject; states: S[] } {
  const states = new Map<number, S>();
  const top = foldChoiceChunks(events, (choice, index) => {
    const { index: _index, [field]: value, finish_reason, logprobs, ...other } = choice;
    let state = states.get(index);
    if (!state) {
      state = create(index);
      states.set(index, state);
    }
    Object.assign(state.extra, other);
    if (typeof finish_reason === 'string' && finish_reason) state.finishReason = finish_reason;
    apply(state, value, logprobs);
  });
  if (!top) throw new ProtocolError('PROTOCOL_MALFORMED_STREAM', `${streamName} stream holds no parseable chunk`);
  return { top, states: [...states.values()].sort((a, b) => a.index - b.index) };
}

/** The non-stream answer from the folded fields and the finished choices, `usage` last as the API sends it. */
export function choiceAnswer(top: JsonObject, object: string, choices: JsonObject[]): JsonObject {
  const { usage, ...fields } = top;
  return { ...fields, object, choices, ...(usage !== undefined ? { usage } : {}) };
}

/** A synthesized choice stream: each answer choice as chunks (`choiceChunks`), then usage and `[DONE]`. */
export function synthesizeChoices(
  answer: JsonObject,
  request: RequestInfo,
  names: { answer: string; chunkObject: string },
  choiceChunks: (choice: JsonObject) => JsonObject[],
): SseEventInit[] {
  if (!Array.isArray(answer.choices)) {
    throw new ProtocolError('PROTOCOL_MALFORMED_ANSWER', `${names.answer} has no \`choices\` array`);
  }
  const chunks = objectsIn(answer.choices).flatMap(choiceChunks);
  return choiceStreamFrames(answer, names.chunkObject, chunks, request.wantsStreamUsage);
}
