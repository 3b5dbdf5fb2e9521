import type { SseEvent } from '../sse/types.js';
import { choiceProtocol } from './choice-stream.js';
import { chunkFixed, chunkWords } from './chunk-text.js';
import {
  badRequest,
  choiceAnswer,
  type ChoiceStateBase,
  foldChoiceStates,
  isJsonObject,
  objectsIn,
} from './openai-shared.js';
import type { JsonObject, JsonValue, Protocol } from './types.js';

/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`).
 *
 * A stream is a list of `chat.completion.chunk` events, one choice delta each (choices are
 * interleaved when `n > 1`), an optional usage chunk (`choices: []`) and the terminal `data: [DONE]`.
 * `assemble` accumulates chunks the way the official SDK's ChatCompletionStream does;
 * `synthesize` produces chunks that accumulator turns back into the same answer.
 */

const TOOL_ARGUMENT_FRAGMENT = 32;

interface ToolCallState {
  extra: JsonObject;
  id?: string;
  type?: string;
  fn?: { name: string; arguments: string; extra: JsonObject };
}

interface ChoiceState extends ChoiceStateBase {
  logprobs: JsonObject | null;
  /** Unknown delta fields (e.g. `annotations`); the last value wins, as in the SDK. */
  messageExtra: JsonObject;
  role?: string;
  // Null until a string delta arrives. Unlike the SDK (which turns "" into null) an empty string
  // survives, because that is what the non-stream answer says (e.g. a reasoning model cut off by length).
  content: string | null;
  refusal: string | null;
  reasoning?: string;
  /** Set once a delta carries a `tool_calls` array, even an empty one (the SDK keeps `[]` too). */
  toolCalls?: ToolCallState[];
  functionCall?: { name: string; arguments: string };
  audio?: JsonObject;
  /** Optional message fields only ever seen as null (e.g. vLLM's `reasoning_content: null`): kept as null. */
  nulls: Set<string>;
}

/** Message fields accumulated across deltas rather than taken from the last one. */
const ACCUMULATED_OPTIONAL = ['reasoning_content', 'tool_calls', 'function_call', 'audio'] as const;

function newChoiceState(index: number): ChoiceState {
  const empty = { finishReason: null, logprobs: null, content: null, refusal: null };
  return { index, ...empty, extra: {}, messageExtra: {}, nulls: new Set() };
}

function appendLogprobs(state: ChoiceState, logprobs: JsonObject): void {
  if (!state.logprobs) {
    // Copy the arrays: later chunks append to them.
    state.logprobs = {};
    for (const [key, value] of Object.entries(logprobs)) {
      state.logprobs[key] = Array.isArray(value) ? [...value] : value;
    }
    return;
  }
  for (const [key, value] of Object.entries(logprobs)) {
    const current = state.logprobs[key];
    if (Array.isArray(value))
      state.logprobs[key] = Array.isArray(current) ? [...current, ...value] : [...value];
    else if (key !== 'content' && key !== 'refusal') state.logprobs[key] = value;
  }
}

function appendToolCalls(calls: ToolCallState[], deltas: JsonObject[]): void {
  for (const { index, id, type, function: fn, ...rest } of deltas) {
    if (typeof index !== 'number') continue;
    calls[index] ??= { extra: {} };
    const call = calls[index];
    Object.assign(call.extra, rest);
    if (typeof id === 'string' && id) call.id = id;
    if (typeof type === 'string' && type) call.type = type;
    if (!isJsonObject(fn)) continue;
    const { name, arguments: args, ...fnRest } = fn;
    call.fn ??= { name: '', arguments: '', extra: {} };
    Object.assign(call.fn.extra, fnRest);
    if (typeof name === 'string' && name) call.fn.name = name;
    if (typeof args === 'string') call.fn.arguments += args;
  }
}

function appendDelta(state: ChoiceState, delta: JsonObject): void {
  const { role, content, refusal, reasoning_content, tool_calls, function_call, audio, ...rest } = delta;
  Object.assign(state.messageExtra, rest);
  if (typeof role === 'string' && role) state.role = role;
  if (typeof content === 'string') state.content = (state.content ?? '') + content;
  if (typeof refusal === 'string') state.refusal = (state.refusal ?? '') + refusal;
  if (typeof reasoning_content === 'string') state.reasoning = (state.reasoning ?? '') + reasoning_content;
  if (Array.isArray(tool_calls)) {
    state.toolCalls ??= [];
    appendToolCalls(state.toolCalls, objectsIn(tool_calls));
  }
  for (const key of ACCUMULATED_OPTIONAL) if (delta[key] === null) state.nulls.add(key);
  if (isJsonObject(function_call)) {
    state.functionCall ??= { name: '', arguments: '' };
    if (typeof function_call.name === 'string' && function_call.name)
      state.functionCall.name = function_call.name;
    if (typeof function_call.arguments === 'string') state.functionCall.arguments += function_call.arguments;
  }
  if (isJsonObject(audio)) {
    state.audio ??= {};
    for (const [key, value] of Object.entries(audio)) {
      const current = state.audio[key];
      const concatenated = (key === 'data' || key === 'transcript') && typeof value === 'string';
      if (concatenated) state.audio[key] = (typeof current === 'string' ? current : '') + value;
      else if (value !== null) state.audio[key] = value;
    }
  }
}

function finishChoice(state: ChoiceState): JsonObject {
  const message: JsonObject = {
    ...state.messageExtra,
    role: state.role ?? 'assistant',
    content: state.content,
    refusal: state.refusal,
  };
  if (state.reasoning !== undefined) message.reasoning_content = state.reasoning;
  if (state.audio) message.audio = state.audio;
  if (state.functionCall) message.function_call = { ...state.functionCall };
  if (state.toolCalls) {
    message.tool_calls = state.toolCalls
      .filter((call) => call !== undefined)
      .map((call): JsonObject => {
        const out: JsonObject = { ...call.extra };
        if (call.id !== undefined) out.id = call.id;
        if (call.type !== undefined) out.type = call.type;
        if (call.fn) out.function = { ...call.fn.extra, name: call.fn.name, arguments: call.fn.arguments };
        return out;
      });
  }
  for (const key of state.nulls) message[key] ??= null;
  return {
    ...state.extra,
    index: state.index,
    message,
    logprobs: state.logprobs,
    finish_reason: state.finishReason,
  };
}

function assemble(events: readonly SseEvent[]): JsonObject {
  const { top, states } = foldChoiceStates(
    events,
    'delta',
    newChoiceState,
    (state, delta, logprobs) => {
      if (isJsonObject(logprobs)) appendLogprobs(state, logprobs);
      if (isJsonObject(delta)) appendDelta(state, delta);
    },
    'chat',
  );
  return choiceAnswer(top, 'chat.completion', states.map(finishChoice));
}

/** Text as delta pieces; an empty string stays one empty piece so that it survives the round trip. */
function textPieces(text: string): string[] {
  return text === '' ? [''] : chunkWords(text);
}

/** The first chunk's logprobs: the same keys with empty arrays, so later chunks append to them. */
function emptyLogprobs(logprobs: JsonValue | undefined): JsonValue {
  if (!isJsonObject(logprobs)) return null;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(logprobs)) out[key] = Array.isArray(value) ? [] : value;
  return out;
}

/** Content deltas: one per logprob token when the tokens spell the content, otherwise word-sized. */
function contentDeltas(
  content: string,
  entries: JsonObject[],
): Array<{ delta: JsonObject; logprobs: JsonValue }> {
  const tokens = entries.map((entry) => entry.token);
  const spelled = tokens.every((token) => typeof token === 'string') && tokens.join('') === content;
  if (entries.length > 0 && spelled) {
    return entries.map((entry) => ({
      delta: { content: entry.token ?? '' },
      logprobs: { content: [entry], refusal: null },
    }));
  }
  const deltas: Array<{ delta: JsonObject; logprobs: JsonValue }> = textPieces(content).map((piece) => ({
    delta: { content: piece },
    logprobs: null,
  }));
  if (entries.length > 0) deltas.push({ delta: {}, logprobs: { content: entries, refusal: null } });
  return deltas;
}

function choiceChunks(choice: JsonObject): JsonObject[] {
  const { index, message: rawMessage, logprobs, finish_reason, ...choiceExtra } = choice;
  const message = isJsonObject(rawMessage) ? rawMessage : {};
  const { role, content, refusal, reasoning_content, tool_calls, function_call, ...messageExtra } = message;
  const out: JsonObject[] = [];
  const push = (delta: JsonObject, lp: JsonValue = null): void => {
    out.push({ index: index ?? 0, delta, logprobs: lp, finish_reason: null });
  };

  // Null or empty optional fields have no deltas of their own: the first chunk states them.
  const stated: JsonObject = {};
  const optional = { reasoning_content, tool_calls, function_call };
  for (const [key, value] of Object.entries(optional)) {
    if (value === null || (Array.isArray(value) && value.length === 0)) stated[key] = value;
  }
  push(
    {
      role: role ?? 'assistant',
      content: content === null || content === undefined ? null : '',
      ...messageExtra,
      ...stated,
      refusal: null,
    },
    emptyLogprobs(logprobs),
  );
  if (typeof reasoning_content === 'string') {
    for (const piece of textPieces(reasoning_content)) push({ reasoning_content: piece });
  }
  const lp = isJsonObject(logprobs) ? logprobs : {};
  if (typeof content === 'string' && content !== '') {
    for (const { delta, logprobs: pieceLp } of contentDeltas(content, objectsIn(lp.content)))
      push(delta, pieceLp);
  }
  if (typeof refusal === 'string') {
    const refusalLogprobs = objectsIn(lp.refusal);
    textPieces(refusal).forEach((piece, i) => {
      const carried =
        i === 0 && refusalLogprobs.length > 0 ? { content: null, refusal: refusalLogprobs } : null;
      push({ refusal: piece }, carried);
    });
  }
  for (const [i, call] of objectsIn(tool_calls).entries()) {
    const { function: fn, ...callRest } = call;
    if (!isJsonObject(fn)) {
      push({ tool_calls: [{ index: i, ...callRest }] });
      continue;
    }
    const { arguments: args, ...fnRest } = fn;
    push({ tool_calls: [{ index: i, ...callRest, function: { ...fnRest, arguments: '' } }] });
    for (const piece of chunkFixed(typeof args === 'string' ? args : '', TOOL_ARGUMENT_FRAGMENT)) {
      push({ tool_calls: [{ index: i, function: { arguments: piece } }] });
    }
  }
  if (isJsonObject(function_call)) {
    const { arguments: args, ...fnRest } = function_call;
    push({ function_call: { ...fnRest, arguments: '' } });
    for (const piece of chunkFixed(typeof args === 'string' ? args : '', TOOL_ARGUMENT_FRAGMENT)) {
      push({ function_call: { arguments: piece } });
    }
  }
  out.push({
    ...choiceExtra,
    index: index ?? 0,
    delta: {},
    logprobs: null,
    finish_reason: finish_reason ?? 'stop',
  });
  return out;
}

export const openaiChatProtocol: Protocol = choiceProtocol({
  name: 'openai.chat',
  path: '/v1/chat/completions',
  object: 'chat.completion',
  names: { answer: 'chat completion', chunkObject: 'chat.completion.chunk' },
  checkFields(body) {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      return badRequest('`messages` must be a non-empty array of message objects.', 'messages');
    }
    for (const [i, message] of messages.entries()) {
      if (!isJsonObject(message) || typeof message.role !== 'string') {
        return badRequest(`\`messages[${i}]\` must be an object with a string \`role\`.`, `messages[${i}]`);
      }
    }
    return undefined;
  },
  assemble,
  choiceChunks,
});
