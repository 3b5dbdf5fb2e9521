import type { CacheEntry } from '../cache/entry.js';
import type { JsonObject, JsonValue, Protocol } from '../protocols/types.js';
import { createSseDecoder } from '../sse/decoder.js';

/**
 * Only answers that ended on their own may answer someone else's question: no tool calls (they
 * belong to the exact conversation that asked), no cut-off by a token limit (a longer limit in a
 * paraphrase would deserve the whole answer).
 */
export function endedNaturally(protocol: Protocol, entry: CacheEntry): boolean {
  let answer: JsonObject;
  try {
    answer = entry.format === 'json' ? (JSON.parse(Buffer.from(entry.body).toString('utf8')) as JsonObject) : assembled(protocol, entry);
  } catch {
    return false;
  }
  switch (protocol.name) {
    case 'openai.chat':
      return choicesStopped(answer, (choice) => {
        const message = choice.message;
        return !isObject(message) || (!nonEmpty(message.tool_calls) && message.function_call == null);
      });
    case 'openai.completions':
      return choicesStopped(answer, () => true);
    case 'anthropic.messages':
      return (
        (answer.stop_reason === 'end_turn' || answer.stop_reason === 'stop_sequence') &&
        !(Array.isArray(answer.content) && answer.content.some((b) => isObject(b) && b.type === 'tool_use'))
      );
    case 'openai.responses':
      return (
        answer.status === 'completed' &&
        Array.isArray(answer.output) &&
        answer.output.every((item) => isObject(item) && (item.type === 'message' || item.type === 'reasoning'))
      );
    case 'openai.embeddings':
    case 'bedrock.converse':
    case 'bedrock.invoke':
    case 'gemini.generate':
    case 'gemini.json':
      return false;
  }
}

function assembled(protocol: Protocol, entry: CacheEntry): JsonObject {
  const events = createSseDecoder({ maxRemainderBytes: entry.body.byteLength + 1 }).feed(entry.body);
  return protocol.assemble(events);
}

function choicesStopped(answer: JsonObject, more: (choice: JsonObject) => boolean): boolean {
  const choices = answer.choices;
  return (
    Array.isArray(choices) &&
    choices.length > 0 &&
    choices.every((c) => isObject(c) && c.finish_reason === 'stop' && more(c))
  );
}

function nonEmpty(value: JsonValue | undefined): boolean {
  return Array.isArray(value) && value.length > 0;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
