import type { SseEvent, SseEventInit } from '../sse/types.js';
import { isJsonObject, parseJsonObject } from './openai-shared.js';
import type { JsonObject, StreamUsageOption } from './types.js';

/**
 * OpenAI chat and legacy completions: usage on a stream only with
 * `stream_options.include_usage`, which also adds `"usage": null` to every chunk and one final
 * chunk with `choices: []` and the usage. This asks for it, and undoes it for a client that did
 * not ask, so that client sees what the upstream would have sent it.
 */
export const openAiStreamUsage: StreamUsageOption = {
  ask(body: JsonObject): JsonObject {
    const options = isJsonObject(body.stream_options) ? body.stream_options : {};
    return { ...body, stream_options: { ...options, include_usage: true } };
  },

  strip(event: SseEvent): SseEventInit | 'keep' | 'drop' {
    const chunk = parseJsonObject(event.data);
    if (!chunk || !('usage' in chunk)) return 'keep';
    if (Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage !== null) return 'drop';
    if (chunk.usage !== null) return 'keep';
    const { usage: _usage, ...rest } = chunk;
    return { event: event.event, id: event.id, retry: event.retry, data: JSON.stringify(rest) };
  },
};
