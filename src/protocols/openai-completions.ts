import type { SseEvent } from '../sse/types.js';
import { choiceProtocol } from './choice-stream.js';
import { chunkWords } from './chunk-text.js';
import {
  badRequest,
  choiceAnswer,
  type ChoiceStateBase,
  foldChoiceStates,
  isJsonObject,
} from './openai-shared.js';
import type { JsonObject, JsonValue, Protocol } from './types.js';

/**
 * OpenAI legacy Completions (`POST /v1/completions`): `text_completion` chunks whose choices carry
 * `text` pieces, legacy logprobs (parallel arrays `tokens`, `token_logprobs`, `top_logprobs`,
 * `text_offset`), a final `finish_reason`, an optional usage chunk and `data: [DONE]`.
 * The SDK has no accumulator for this endpoint; assembling means concatenating text and the
 * logprob arrays per choice index.
 */

function isTokenArray(value: JsonValue): boolean {
  return Array.isArray(value) && value.every((token) => Number.isInteger(token));
}

/** `prompt` may be a string, an array of strings, an array of tokens, or an array of token arrays. */
function isPrompt(value: JsonValue | undefined): boolean {
  if (typeof value === 'string') return true;
  if (!Array.isArray(value)) return false;
  return (
    value.every((item) => typeof item === 'string') ||
    isTokenArray(value) ||
    value.every((item) => isTokenArray(item))
  );
}

interface ChoiceState extends ChoiceStateBase {
  text: string;
  logprobs: JsonObject | null;
}

/** Legacy logprobs are parallel arrays: concatenate each array, let other fields take the last value. */
function appendLogprobs(state: ChoiceState, logprobs: JsonObject): void {
  state.logprobs ??= {};
  for (const [key, value] of Object.entries(logprobs)) {
    const current = state.logprobs[key];
    state.logprobs[key] = Array.isArray(value)
      ? [...(Array.isArray(current) ? current : []), ...value]
      : value;
  }
}

function assemble(events: readonly SseEvent[]): JsonObject {
  const { top, states } = foldChoiceStates(
    events,
    'text',
    (index): ChoiceState => ({ index, text: '', finishReason: null, logprobs: null, extra: {} }),
    (state, text, logprobs) => {
      if (typeof text === 'string') state.text += text;
      if (isJsonObject(logprobs)) appendLogprobs(state, logprobs);
    },
    'completions',
  );
  const choices = states.map((state) => ({
    ...state.extra,
    text: state.text,
    index: state.index,
    logprobs: state.logprobs,
    finish_reason: state.finishReason,
  }));
  return choiceAnswer(top, 'text_completion', choices);
}

/** The logprobs for token `i`: element `i` of every array that runs parallel to `tokens`. */
function tokenLogprobs(logprobs: JsonObject, i: number, count: number): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(logprobs)) {
    if (Array.isArray(value) && value.length === count) out[key] = value.slice(i, i + 1);
    else if (i === 0) out[key] = value;
  }
  return out;
}

/** Text pieces: one per logprob token when the tokens spell the text, otherwise word-sized. */
function textChunks(
  text: string,
  logprobs: JsonValue | undefined,
): Array<{ text: string; logprobs: JsonValue }> {
  if (isJsonObject(logprobs)) {
    const tokens = Array.isArray(logprobs.tokens) ? logprobs.tokens : [];
    const spelled = tokens.every((token) => typeof token === 'string') && tokens.join('') === text;
    if (tokens.length > 0 && spelled) {
      return tokens.map((token, i) => ({
        text: String(token),
        logprobs: tokenLogprobs(logprobs, i, tokens.length),
      }));
    }
    // Tokens that do not spell the text (e.g. byte tokens): words first, then the logprobs whole.
    return [...chunkWords(text).map((piece) => ({ text: piece, logprobs: null })), { text: '', logprobs }];
  }
  return chunkWords(text).map((piece) => ({ text: piece, logprobs: null }));
}

function choiceChunks(choice: JsonObject): JsonObject[] {
  const { text, index, logprobs, finish_reason, ...extra } = choice;
  const at = index ?? 0;
  const pieces = textChunks(typeof text === 'string' ? text : '', logprobs);
  return [
    ...pieces.map((piece) => ({
      text: piece.text,
      index: at,
      logprobs: piece.logprobs,
      finish_reason: null,
    })),
    { ...extra, text: '', index: at, logprobs: null, finish_reason: finish_reason ?? 'stop' },
  ];
}

export const openaiCompletionsProtocol: Protocol = choiceProtocol({
  name: 'openai.completions',
  path: '/v1/completions',
  object: 'text_completion',
  names: { answer: 'text completion', chunkObject: 'text_completion' },
  checkFields(body) {
    if (isPrompt(body.prompt)) return undefined;
    return badRequest(
      '`prompt` is required: a string, an array of strings, an array of tokens, or an array of token arrays.',
      'prompt',
    );
  },
  assemble,
  choiceChunks,
});
