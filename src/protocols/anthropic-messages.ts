import type { SseEvent, SseEventInit } from '../sse/types.js';
import { inspectMessageRecording, inspectMessageStream, parseEventData } from './anthropic-gate.js';
import { isJsonObject, mergeAnthropicUsage, modelAndUsage } from './anthropic-shared.js';
import { chunkFixed, chunkWords } from './chunk-text.js';
import { ProtocolError } from './errors.js';
import { withoutExcludedFields } from './key-exclusions.js';
import { dataTypeIs, eventsAfterTerminal, throughTerminal } from './terminal.js';
import type { JsonObject, JsonValue, Protocol, RequestCheck } from './types.js';

/**
 * Anthropic Messages (`POST /v1/messages`). A stream is `message_start`, then for each content
 * block `content_block_start` / `content_block_delta`* / `content_block_stop`, then
 * `message_delta` (stop reason, final usage) and `message_stop`; `ping` may appear anywhere.
 */

/** Size of synthesized `input_json_delta` fragments; the API sends fragments of a few dozen characters. */
const TOOL_INPUT_FRAGMENT = 32;

/** Block types whose `input` arrives as `input_json_delta` fragments (the SDK's `tracksToolInput`). */
const STREAMED_INPUT_BLOCKS = new Set(['tool_use', 'server_tool_use']);

const isMessageStop = dataTypeIs('message_stop');

export const anthropicMessagesProtocol: Protocol = {
  name: 'anthropic.messages',
  family: 'anthropic',
  path: '/v1/messages',

  validate(body: unknown): RequestCheck {
    if (!isJsonObject(body)) return invalid('The request body must be a JSON object.');
    if (typeof body.model !== 'string' || body.model === '') {
      return invalid(
        '`model` is required and must be a non-empty string, e.g. "claude-sonnet-4-6".',
        'model',
      );
    }
    if (!Array.isArray(body.messages)) {
      return invalid('`messages` is required and must be an array of {role, content} objects.', 'messages');
    }
    const maxTokens = body.max_tokens;
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
      return invalid('`max_tokens` is required and must be a positive integer.', 'max_tokens');
    }
    if (body.stream !== undefined && typeof body.stream !== 'boolean') {
      return invalid('`stream` must be a boolean when present.', 'stream');
    }
    return {
      ok: true,
      request: { body, model: body.model, stream: body.stream === true, wantsStreamUsage: false },
    };
  },

  cacheability() {
    return { cacheable: true };
  },

  keyMaterial(request) {
    return withoutExcludedFields('anthropic.messages', request.body);
  },

  isTerminal: isMessageStop,

  inspectStream(events) {
    const trailing = eventsAfterTerminal(events, isMessageStop);
    if (trailing !== undefined) return { complete: false, reason: trailing };
    return inspectMessageStream(events);
  },

  inspectRecording: inspectMessageRecording,

  inspectJson(body) {
    if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
    if (body.type === 'error') return { ok: false, reason: 'body is an error object' };
    if (body.type !== 'message')
      return { ok: false, reason: `body type is ${describe(body.type)}, not "message"` };
    if (!Array.isArray(body.content)) return { ok: false, reason: 'message has no content array' };
    if (typeof body.stop_reason !== 'string') return { ok: false, reason: 'message has no stop_reason' };
    return { ok: true, ...modelAndUsage(body) };
  },

  assemble(events) {
    return assembleMessage(throughTerminal(events, isMessageStop));
  },

  synthesize(answer) {
    return synthesizeMessageStream(answer);
  },
};

function invalid(message: string, param?: string): RequestCheck {
  return param === undefined
    ? { ok: false, status: 400, message }
    : { ok: false, status: 400, message, param };
}

function describe(value: JsonValue | undefined): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}


/**
 * The non-stream Message the stream stands for, accumulated as the SDK's MessageStream does:
 * blocks appended on `content_block_start`, deltas applied by `index`, tool input parsed from the
 * concatenated `input_json_delta` fragments (no fragment at all keeps the block's own input).
 */
function assembleMessage(events: readonly SseEvent[]): JsonObject {
  let message: JsonObject | undefined;
  let content: JsonValue[] = [];
  const toolJson = new Map<number, string>();
  for (const event of events) {
    const data = parseEventData(event);
    if (data === undefined) continue;
    switch (data.type) {
      case 'message_start':
        message = isJsonObject(data.message) ? { ...data.message } : {};
        content = Array.isArray(message.content) ? [...message.content] : [];
        break;
      case 'content_block_start':
        if (isJsonObject(data.content_block)) content.push({ ...data.content_block });
        break;
      case 'content_block_delta':
        if (typeof data.index === 'number' && isJsonObject(data.delta)) {
          applyDelta(content, data.index, data.delta, toolJson);
        }
        break;
      case 'message_delta':
        if (message !== undefined) applyMessageDelta(message, data);
        break;
    }
  }
  if (message === undefined) {
    throw new ProtocolError('PROTOCOL_MALFORMED_STREAM', 'the stream has no message_start event');
  }
  for (const [index, json] of toolJson) {
    const block = content[index];
    if (isJsonObject(block)) block.input = parseToolInput(json, block.input);
  }
  return { ...message, content };
}

function applyDelta(
  content: JsonValue[],
  index: number,
  delta: JsonObject,
  toolJson: Map<number, string>,
): void {
  const block = content[index];
  if (!isJsonObject(block)) return;
  switch (delta.type) {
    case 'text_delta':
      if (block.type === 'text') block.text = stringOr(block.text) + stringOr(delta.text);
      break;
    case 'citations_delta':
      if (block.type === 'text' && delta.citation !== undefined) {
        block.citations = [...(Array.isArray(block.citations) ? block.citations : []), delta.citation];
      }
      break;
    case 'input_json_delta':
      if (typeof block.type === 'string' && STREAMED_INPUT_BLOCKS.has(block.type)) {
        toolJson.set(index, (toolJson.get(index) ?? '') + stringOr(delta.partial_json));
      }
      break;
    case 'thinking_delta':
      if (block.type === 'thinking') block.thinking = stringOr(block.thinking) + stringOr(delta.thinking);
      break;
    case 'signature_delta':
      if (block.type === 'thinking' && delta.signature !== undefined) block.signature = delta.signature;
      break;
  }
}

/** An empty buffer means `{}` (the API sends one empty fragment for a tool call without arguments). */
function parseToolInput(json: string, fallback: JsonValue | undefined): JsonValue {
  if (json === '') return {};
  try {
    return JSON.parse(json) as JsonValue;
  } catch {
    // Only a truncated stream gets here, and those are never stored; keep what the block started with.
    return fallback ?? {};
  }
}

function applyMessageDelta(message: JsonObject, data: JsonObject): void {
  if (isJsonObject(data.delta)) {
    for (const [field, value] of Object.entries(data.delta)) {
      // stop_reason / stop_sequence always replace (null is a real stop_sequence); other fields
      // (container, stop_details) replace only when present, as the SDK does for container.
      if (field === 'stop_reason' || field === 'stop_sequence' || value !== null) message[field] = value;
    }
  }
  message.usage = mergeAnthropicUsage(message.usage, data.usage);
}

function stringOr(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

function sse(data: JsonObject & { type: string }): SseEventInit {
  return { event: data.type, data: JSON.stringify(data) };
}

/** A stream shaped like the API's, in word-sized chunks, that the SDK accumulates back into `answer`. */
function synthesizeMessageStream(answer: JsonObject): SseEventInit[] {
  const { content, stop_reason, stop_sequence, usage, ...rest } = answer;
  const finalUsage = isJsonObject(usage) ? usage : {};
  const outputTokens = typeof finalUsage.output_tokens === 'number' ? finalUsage.output_tokens : 0;
  const startMessage: JsonObject = {
    ...rest,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    // The API reports a token or so in message_start and the real count in message_delta.
    usage: { ...finalUsage, output_tokens: Math.min(1, outputTokens) },
  };
  if ('stop_details' in rest) startMessage.stop_details = null;

  const events: SseEventInit[] = [
    sse({ type: 'message_start', message: startMessage }),
    sse({ type: 'ping' }),
  ];
  const blocks = Array.isArray(content) ? content : [];
  for (const [index, block] of blocks.entries()) {
    if (!isJsonObject(block)) continue;
    events.push(...synthesizeBlock(block, index));
  }

  const delta: JsonObject = { stop_reason: stop_reason ?? null, stop_sequence: stop_sequence ?? null };
  if ('stop_details' in rest) delta.stop_details = rest.stop_details ?? null;
  events.push(sse({ type: 'message_delta', delta, usage: { output_tokens: outputTokens } }));
  events.push(sse({ type: 'message_stop' }));
  return events;
}

function synthesizeBlock(block: JsonObject, index: number): SseEventInit[] {
  const start = (contentBlock: JsonObject) =>
    sse({ type: 'content_block_start', index, content_block: contentBlock });
  const delta = (d: JsonObject) => sse({ type: 'content_block_delta', index, delta: d });
  const events: SseEventInit[] = [];
  if (block.type === 'text') {
    const citations = Array.isArray(block.citations) && block.citations.length > 0 ? block.citations : [];
    events.push(start({ ...block, text: '', ...(citations.length > 0 ? { citations: [] } : {}) }));
    for (const citation of citations) events.push(delta({ type: 'citations_delta', citation }));
    for (const text of chunkWords(stringOr(block.text))) events.push(delta({ type: 'text_delta', text }));
  } else if (typeof block.type === 'string' && STREAMED_INPUT_BLOCKS.has(block.type)) {
    events.push(start({ ...block, input: {} }));
    const json = JSON.stringify(block.input ?? {});
    for (const partial_json of chunkFixed(json, TOOL_INPUT_FRAGMENT)) {
      events.push(delta({ type: 'input_json_delta', partial_json }));
    }
  } else if (block.type === 'thinking') {
    events.push(start({ ...block, thinking: '', signature: '' }));
    for (const thinking of chunkWords(stringOr(block.thinking))) {
      events.push(delta({ type: 'thinking_delta', thinking }));
    }
    if (typeof block.signature === 'string')
      events.push(delta({ type: 'signature_delta', signature: block.signature }));
  } else {
    // redacted_thinking, server tool results and anything newer arrive whole in content_block_start.
    events.push(start(block));
  }
  events.push(sse({ type: 'content_block_stop', index }));
  return events;
}
