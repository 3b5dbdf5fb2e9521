import type { SseEvent, SseEventInit } from '../sse/types.js';
import { chunkFixed, chunkWords } from './chunk-text.js';
import { ProtocolError } from './errors.js';
import { withoutExcludedFields } from './key-exclusions.js';
import {
  badRequest,
  checkOpenAiBody,
  errorReason,
  isJsonObject,
  openAiRequest,
  parseJsonObject,
} from './openai-shared.js';
import {
  inspectResponseRecording,
  inspectResponseStream,
  modelAndUsage,
  notCompleted,
  stringOr,
} from './responses-gate.js';
import { dataTypeIs, eventsAfterTerminal, throughTerminal } from './terminal.js';
import type { JsonObject, Protocol } from './types.js';

/**
 * OpenAI Responses (`POST /v1/responses`). A stream is `response.created`, `response.in_progress`,
 * then per output item `response.output_item.added` / item-specific deltas /
 * `response.output_item.done`, and finally `response.completed`, whose `response` is the whole
 * answer. Every event's JSON has `type` (equal to the SSE event name) and a `sequence_number`.
 */

/** Size of synthesized function-call argument fragments; the API sends a few characters at a time. */
const ARGUMENT_FRAGMENT = 32;

const isResponseCompleted = dataTypeIs('response.completed');

export const openaiResponsesProtocol: Protocol = {
  name: 'openai.responses',
  family: 'openai',
  path: '/v1/responses',

  validate(body) {
    const common = checkOpenAiBody(body);
    if (!common.ok) return common.failure;
    const input = common.body.input;
    if (typeof input !== 'string' && !Array.isArray(input)) {
      return badRequest('`input` is required: a string, or an array of input items.', 'input');
    }
    return openAiRequest(common);
  },

  cacheability(request) {
    if (request.body.background === true) {
      return { cacheable: false, reason: 'background responses are polled, not answered' };
    }
    return { cacheable: true };
  },

  keyMaterial(request) {
    return withoutExcludedFields('openai.responses', request.body);
  },

  isTerminal: isResponseCompleted,

  inspectStream(events) {
    const trailing = eventsAfterTerminal(events, isResponseCompleted);
    if (trailing !== undefined) return { complete: false, reason: trailing };
    return inspectResponseStream(events);
  },

  inspectRecording: inspectResponseRecording,

  inspectJson(body) {
    if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
    const error = errorReason(body);
    if (error !== undefined) return { ok: false, reason: `body carries an error: ${error}` };
    const problem = notCompleted(body);
    if (problem !== undefined) return { ok: false, reason: problem };
    return { ok: true, ...modelAndUsage(body) };
  },

  assemble(events) {
    const response = completedResponse(throughTerminal(events, isResponseCompleted));
    if (response === undefined) {
      throw new ProtocolError('PROTOCOL_MALFORMED_STREAM', 'the stream has no response.completed event');
    }
    return response;
  },

  synthesize(answer) {
    return synthesizeResponseStream(answer);
  },
};

/** The `response` of the last response.completed event: the full answer, as non-stream JSON. */
function completedResponse(events: readonly SseEvent[]): JsonObject | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const data = parseJsonObject(events[i]?.data ?? '');
    if (data?.type === 'response.completed' && isJsonObject(data.response)) return data.response;
  }
  return undefined;
}

/**
 * A stream shaped like the API's that the SDK's ResponseStream accumulates back into `answer`.
 * The deltas alone rebuild every text, refusal, argument and summary; the `.done` events and
 * `response.completed` then carry the finished objects, as the API's do.
 */
function synthesizeResponseStream(answer: JsonObject): SseEventInit[] {
  const events: SseEventInit[] = [];
  const emit = (type: string, fields: JsonObject) => {
    events.push({ event: type, data: JSON.stringify({ type, sequence_number: events.length, ...fields }) });
  };
  const inProgress: JsonObject = { ...answer, status: 'in_progress', output: [], usage: null };
  if ('completed_at' in answer) inProgress.completed_at = null;
  emit('response.created', { response: inProgress });
  emit('response.in_progress', { response: inProgress });
  const output = Array.isArray(answer.output) ? answer.output : [];
  for (const [outputIndex, item] of output.entries()) {
    if (isJsonObject(item)) synthesizeItem(item, outputIndex, emit);
  }
  emit('response.completed', { response: answer });
  return events;
}

type Emit = (type: string, fields: JsonObject) => void;

function synthesizeItem(item: JsonObject, output_index: number, emit: Emit): void {
  const item_id = typeof item.id === 'string' ? item.id : '';
  const at = { item_id, output_index };
  switch (item.type) {
    case 'message': {
      emit('response.output_item.added', {
        output_index,
        item: { ...item, status: 'in_progress', content: [] },
      });
      const parts = Array.isArray(item.content) ? item.content : [];
      for (const [content_index, part] of parts.entries()) {
        if (isJsonObject(part)) synthesizeMessagePart(part, { ...at, content_index }, emit);
      }
      break;
    }
    case 'function_call': {
      emit('response.output_item.added', {
        output_index,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      const args = stringOr(item.arguments);
      for (const delta of chunkFixed(args, ARGUMENT_FRAGMENT))
        emit('response.function_call_arguments.delta', { ...at, delta });
      emit('response.function_call_arguments.done', { ...at, name: item.name ?? '', arguments: args });
      break;
    }
    case 'custom_tool_call': {
      emit('response.output_item.added', { output_index, item: { ...item, input: '' } });
      const input = stringOr(item.input);
      for (const delta of chunkFixed(input, ARGUMENT_FRAGMENT))
        emit('response.custom_tool_call_input.delta', { ...at, delta });
      emit('response.custom_tool_call_input.done', { ...at, input });
      break;
    }
    case 'reasoning':
      synthesizeReasoning(item, at, emit);
      break;
    default:
      // Tool calls run by the provider (web search, file search...) arrive whole.
      emit('response.output_item.added', { output_index, item });
  }
  emit('response.output_item.done', { output_index, item });
}

interface PartAddress extends JsonObject {
  item_id: string;
  output_index: number;
  content_index: number;
}

function synthesizeMessagePart(part: JsonObject, at: PartAddress, emit: Emit): void {
  if (part.type === 'output_text') {
    const text = stringOr(part.text);
    const annotations = Array.isArray(part.annotations) ? part.annotations : [];
    const started: JsonObject = { ...part, text: '', annotations: [] };
    if ('logprobs' in part) started.logprobs = [];
    emit('response.content_part.added', { ...at, part: started });
    for (const delta of chunkWords(text)) emit('response.output_text.delta', { ...at, delta, logprobs: [] });
    for (const [annotation_index, annotation] of annotations.entries()) {
      emit('response.output_text.annotation.added', { ...at, annotation_index, annotation });
    }
    emit('response.output_text.done', {
      ...at,
      text,
      logprobs: Array.isArray(part.logprobs) ? part.logprobs : [],
    });
  } else if (part.type === 'refusal') {
    const refusal = stringOr(part.refusal);
    emit('response.content_part.added', { ...at, part: { ...part, refusal: '' } });
    for (const delta of chunkWords(refusal)) emit('response.refusal.delta', { ...at, delta });
    emit('response.refusal.done', { ...at, refusal });
  } else {
    emit('response.content_part.added', { ...at, part });
  }
  emit('response.content_part.done', { ...at, part });
}

function synthesizeReasoning(
  item: JsonObject,
  at: { item_id: string; output_index: number },
  emit: Emit,
): void {
  const summary = Array.isArray(item.summary) ? item.summary : [];
  const content = Array.isArray(item.content) ? item.content : undefined;
  const added: JsonObject = { ...item, summary: [] };
  if (content !== undefined) added.content = [];
  emit('response.output_item.added', { output_index: at.output_index, item: added });
  for (const [summary_index, part] of summary.entries()) {
    if (!isJsonObject(part)) continue;
    const text = stringOr(part.text);
    emit('response.reasoning_summary_part.added', { ...at, summary_index, part: { ...part, text: '' } });
    for (const delta of chunkWords(text))
      emit('response.reasoning_summary_text.delta', { ...at, summary_index, delta });
    emit('response.reasoning_summary_text.done', { ...at, summary_index, text });
    emit('response.reasoning_summary_part.done', { ...at, summary_index, part });
  }
  for (const [content_index, part] of (content ?? []).entries()) {
    if (!isJsonObject(part)) continue;
    const text = stringOr(part.text);
    emit('response.content_part.added', { ...at, content_index, part: { ...part, text: '' } });
    for (const delta of chunkWords(text))
      emit('response.reasoning_text.delta', { ...at, content_index, delta });
    emit('response.reasoning_text.done', { ...at, content_index, text });
    emit('response.content_part.done', { ...at, content_index, part });
  }
}
