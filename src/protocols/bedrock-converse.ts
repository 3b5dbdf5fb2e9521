import type { SseEvent, SseEventInit } from '../sse/types.js';
import { isJsonObject } from './anthropic-shared.js';
import { bedrockRequest, bedrockRoute, checkBedrockRequest } from './bedrock-shared.js';
import { chunkFixed, chunkWords } from './chunk-text.js';
import { ProtocolError } from './errors.js';
import { eventsAfterTerminal, throughTerminal } from './terminal.js';
import type { JsonObject, JsonValue, Protocol, StreamVerdict, Usage } from './types.js';

/**
 * Bedrock Converse (`POST /model/{modelId}/converse`) and ConverseStream (`.../converse-stream`):
 * one protocol name, so both routes share entries (a stream answers JSON requests and back).
 * A stream is event-stream frames: `messageStart`, per block optional `contentBlockStart`,
 * `contentBlockDelta`*, `contentBlockStop`, then `messageStop` (stop reason) and `metadata` (usage).
 * Exceptions arrive as frames of `:message-type` exception (see sse/framing.ts for the naming).
 */

const TOOL_INPUT_FRAGMENT = 32;

function converseRoute(stream: boolean): Protocol {
  const operation = stream ? 'converse-stream' : 'converse';
  return {
    ...bedrockRoute('bedrock.converse', operation),
    keyPath: '/model/{modelId}/converse',

    validate(body, route) {
      const check = checkBedrockRequest(body, route);
      if (!check.ok) return check;
      const messages = check.body.messages;
      if (messages !== undefined && !Array.isArray(messages)) {
        return {
          ok: false,
          status: 400,
          message: '`messages` must be an array of {role, content} objects.',
          param: 'messages',
        };
      }
      return bedrockRequest(check, stream, { ':modelId': check.route.modelId });
    },

    isTerminal: isMetadata,

    inspectStream(events) {
      const verdict = inspectConverseStream(events);
      if (!verdict.complete) return verdict;
      const trailing = eventsAfterTerminal(events, isMetadata);
      return trailing === undefined ? verdict : { complete: false, reason: trailing };
    },

    inspectJson(body) {
      if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
      const output = body.output;
      if (!isJsonObject(output) || !isJsonObject(output.message))
        return { ok: false, reason: 'no output.message' };
      if (!Array.isArray(output.message.content))
        return { ok: false, reason: 'output.message has no content array' };
      if (typeof body.stopReason !== 'string') return { ok: false, reason: 'no stopReason' };
      const usage = converseUsage(body.usage);
      return usage ? { ok: true, usage } : { ok: true };
    },

    assemble: (events) => assembleConverse(throughTerminal(events, isMetadata)),
    synthesize: (answer) => synthesizeConverseStream(answer),
  };
}

/** The trailing `metadata` event (usage) ends a ConverseStream; `messageStop` comes just before it. */
function isMetadata(event: SseEvent): boolean {
  return event.event === 'metadata';
}

export const bedrockConverseProtocol = converseRoute(false);
export const bedrockConverseStreamProtocol = converseRoute(true);

function converseUsage(value: JsonValue | undefined): Usage | undefined {
  if (!isJsonObject(value)) return undefined;
  const { inputTokens, outputTokens } = value;
  if (typeof inputTokens !== 'number' || typeof outputTokens !== 'number') return undefined;
  return { inputTokens, outputTokens };
}

function payload(event: SseEvent): JsonObject | undefined {
  try {
    const data: unknown = JSON.parse(event.data);
    return isJsonObject(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

function inspectConverseStream(events: readonly SseEvent[]): StreamVerdict {
  let started = false;
  let stopped = false;
  let usage: Usage | undefined;
  let metadata = false;
  for (const [i, event] of events.entries()) {
    const name = event.event ?? '';
    // Every frame is checked, also after metadata: an exception anywhere disqualifies the recording.
    if (name.startsWith('exception:') || name.startsWith('error:')) {
      return { complete: false, reason: `${name} frame at index ${i}` };
    }
    const data = payload(event);
    if (data === undefined) return { complete: false, reason: `frame ${i} (${name}) is not a JSON object` };
    switch (name) {
      case 'messageStart':
        started = true;
        break;
      case 'messageStop':
        if (!started) return { complete: false, reason: 'messageStop without messageStart' };
        if (typeof data.stopReason !== 'string')
          return { complete: false, reason: 'messageStop has no stopReason' };
        stopped = true;
        break;
      case 'metadata':
        if (!stopped) return { complete: false, reason: 'metadata before messageStop' };
        metadata = true;
        usage = converseUsage(data.usage);
        break;
    }
  }
  if (!started) return { complete: false, reason: 'no messageStart event' };
  if (!stopped) return { complete: false, reason: 'no messageStop event' };
  if (!metadata) return { complete: false, reason: 'no metadata event after messageStop' };
  return usage ? { complete: true, usage } : { complete: true };
}

/** Fields every stream event carries besides its content; never copied into the answer. */
function withoutFraming(data: JsonObject): JsonObject {
  const { p: _padding, contentBlockIndex: _index, ...rest } = data;
  return rest;
}

/**
 * The Converse answer the stream stands for, as the SDK's consumers accumulate it: text and
 * reasoning deltas concatenated per block, tool input parsed from its JSON fragments.
 */
function assembleConverse(events: readonly SseEvent[]): JsonObject {
  let role: JsonValue = 'assistant';
  const blocks = new Map<number, JsonObject>();
  const toolJson = new Map<number, string>();
  const answer: JsonObject = {};
  let started = false;
  for (const event of events) {
    const data = payload(event);
    if (data === undefined) continue;
    const index = typeof data.contentBlockIndex === 'number' ? data.contentBlockIndex : 0;
    switch (event.event) {
      case 'messageStart':
        started = true;
        role = data.role ?? role;
        break;
      case 'contentBlockStart': {
        const start = isJsonObject(data.start) ? data.start : {};
        if (isJsonObject(start.toolUse)) blocks.set(index, { toolUse: { ...start.toolUse, input: {} } });
        break;
      }
      case 'contentBlockDelta':
        if (isJsonObject(data.delta)) applyDelta(blocks, toolJson, index, data.delta);
        break;
      case 'messageStop': {
        const { stopReason, ...rest } = withoutFraming(data);
        answer.stopReason = stopReason ?? null;
        Object.assign(answer, rest);
        break;
      }
      case 'metadata':
        Object.assign(answer, withoutFraming(data));
        break;
    }
  }
  if (!started) throw new ProtocolError('PROTOCOL_MALFORMED_STREAM', 'the stream has no messageStart event');
  for (const [index, json] of toolJson) {
    const toolUse = blocks.get(index)?.toolUse;
    if (isJsonObject(toolUse)) toolUse.input = parseJson(json);
  }
  const content = [...blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, block]) => block);
  return { output: { message: { role, content } }, ...answer };
}

function applyDelta(
  blocks: Map<number, JsonObject>,
  toolJson: Map<number, string>,
  index: number,
  delta: JsonObject,
): void {
  const block = blocks.get(index) ?? {};
  blocks.set(index, block);
  if (typeof delta.text === 'string') {
    block.text = (typeof block.text === 'string' ? block.text : '') + delta.text;
  } else if (isJsonObject(delta.toolUse)) {
    toolJson.set(
      index,
      (toolJson.get(index) ?? '') + (typeof delta.toolUse.input === 'string' ? delta.toolUse.input : ''),
    );
  } else if (isJsonObject(delta.reasoningContent)) {
    const reasoning = isJsonObject(block.reasoningContent) ? block.reasoningContent : {};
    block.reasoningContent = reasoning;
    const part = delta.reasoningContent;
    if (part.redactedContent !== undefined) {
      reasoning.redactedContent = part.redactedContent;
      return;
    }
    const text = isJsonObject(reasoning.reasoningText) ? reasoning.reasoningText : {};
    reasoning.reasoningText = text;
    if (typeof part.text === 'string')
      text.text = (typeof text.text === 'string' ? text.text : '') + part.text;
    if (typeof part.signature === 'string') text.signature = part.signature;
  }
}

function parseJson(json: string): JsonValue {
  if (json === '') return {};
  try {
    return JSON.parse(json) as JsonValue;
  } catch {
    // Only a truncated stream gets here, and those are never stored.
    return {};
  }
}

function frame(type: string, data: JsonObject): SseEventInit {
  return { event: type, data: JSON.stringify(data) };
}

/** A stream shaped like Bedrock's, in word-sized deltas, that the SDK reads back into `answer`. */
export function synthesizeConverseStream(answer: JsonObject): SseEventInit[] {
  const output = isJsonObject(answer.output) ? answer.output : {};
  const message = isJsonObject(output.message) ? output.message : {};
  const { output: _output, stopReason, usage, metrics, trace, performanceConfig, ...stopFields } = answer;
  const events: SseEventInit[] = [frame('messageStart', { role: message.role ?? 'assistant' })];
  const content = Array.isArray(message.content) ? message.content : [];
  for (const [contentBlockIndex, block] of content.entries()) {
    if (!isJsonObject(block)) continue;
    if (typeof block.text === 'string') {
      for (const text of chunkWords(block.text))
        events.push(frame('contentBlockDelta', { contentBlockIndex, delta: { text } }));
    } else if (isJsonObject(block.toolUse)) {
      const { input, ...start } = block.toolUse;
      events.push(frame('contentBlockStart', { contentBlockIndex, start: { toolUse: start } }));
      for (const piece of chunkFixed(JSON.stringify(input ?? {}), TOOL_INPUT_FRAGMENT)) {
        events.push(frame('contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input: piece } } }));
      }
    } else if (isJsonObject(block.reasoningContent)) {
      const reasoning = block.reasoningContent;
      if (isJsonObject(reasoning.reasoningText)) {
        const { text, signature } = reasoning.reasoningText;
        for (const piece of chunkWords(typeof text === 'string' ? text : '')) {
          events.push(
            frame('contentBlockDelta', { contentBlockIndex, delta: { reasoningContent: { text: piece } } }),
          );
        }
        if (typeof signature === 'string') {
          events.push(
            frame('contentBlockDelta', { contentBlockIndex, delta: { reasoningContent: { signature } } }),
          );
        }
      } else if (reasoning.redactedContent !== undefined) {
        events.push(
          frame('contentBlockDelta', {
            contentBlockIndex,
            delta: { reasoningContent: { redactedContent: reasoning.redactedContent } },
          }),
        );
      }
    } else {
      continue;
    }
    events.push(frame('contentBlockStop', { contentBlockIndex }));
  }
  events.push(frame('messageStop', { stopReason: stopReason ?? 'end_turn', ...stopFields }));
  const metadata: JsonObject = { metrics: metrics ?? { latencyMs: 0 } };
  if (usage !== undefined) metadata.usage = usage;
  if (trace !== undefined) metadata.trace = trace;
  if (performanceConfig !== undefined) metadata.performanceConfig = performanceConfig;
  events.push(frame('metadata', metadata));
  return events;
}
