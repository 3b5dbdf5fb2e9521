import type { JsonObject, JsonValue, ProtocolName } from '../protocols/types.js';

/**
 * Which requests may take part in semantic caching, what text is embedded (the last user
 * message), and the compatibility material: the key material with that text replaced by a
 * placeholder, so that everything else (system prompt, earlier turns, tools, tool_choice,
 * response_format, sampling parameters) must be identical for two requests to be compared.
 *
 * Works on Protocol.keyMaterial output, never on the raw body: whatever the exact key covers,
 * the fingerprint covers too.
 */

export type ExactOnlyReason =
  | 'protocol'
  | 'too_many_messages'
  | 'last_not_user'
  | 'tool_result_last'
  | 'non_text_part'
  | 'empty_text'
  | 'n_gt_1'
  | 'logprobs'
  | 'hidden_history';

export type Eligibility =
  | { eligible: true; text: string; material: JsonObject }
  | { eligible: false; reason: ExactOnlyReason };

/** Stands in for the embedded text in the fingerprint; no real prompt contains a NUL. */
export const TEXT_PLACEHOLDER = '\u0000sluice:semantic-text\u0000';

export function semanticEligibility(
  protocol: ProtocolName,
  material: JsonObject,
  maxMessages: number,
): Eligibility {
  switch (protocol) {
    case 'openai.chat':
      return chat(material, maxMessages);
    case 'anthropic.messages':
      return anthropic(material, maxMessages);
    case 'openai.responses':
      return responses(material, maxMessages);
    case 'openai.completions':
      return completions(material);
    // Embeddings are not answers to a question; Bedrock and Gemini routes are exact-only until
    // their message shapes get their own extraction (not done yet: see the issue notes). The library's
    // getOrStream / getOrCreate entries are keyed on the caller's own inputs: exact only.
    case 'openai.embeddings':
    case 'bedrock.converse':
    case 'bedrock.invoke':
    case 'gemini.generate':
    case 'gemini.json':
    case 'sluice.chunks':
    case 'sluice.value':
      return no('protocol');
  }
}

function chat(material: JsonObject, maxMessages: number): Eligibility {
  const messages = material.messages;
  if (!Array.isArray(messages) || messages.length === 0) return no('last_not_user');
  if (messages.length > maxMessages) return no('too_many_messages');
  if (typeof material.n === 'number' && material.n > 1) return no('n_gt_1');
  if (material.logprobs === true || positive(material.top_logprobs)) return no('logprobs');
  const last = messages[messages.length - 1];
  if (!isObject(last)) return no('last_not_user');
  if (last.role === 'tool' || last.role === 'function') return no('tool_result_last');
  if (last.role !== 'user') return no('last_not_user');
  const text = textOf(last.content, 'text');
  if (typeof text !== 'string') return text;
  return withPlaceholder(material, 'messages', messages, text);
}

function anthropic(material: JsonObject, maxMessages: number): Eligibility {
  const messages = material.messages;
  if (!Array.isArray(messages) || messages.length === 0) return no('last_not_user');
  const hasSystem = typeof material.system === 'string' ? material.system.length > 0 : Array.isArray(material.system) && material.system.length > 0;
  if (messages.length + (hasSystem ? 1 : 0) > maxMessages) return no('too_many_messages');
  const last = messages[messages.length - 1];
  if (!isObject(last) || last.role !== 'user') return no('last_not_user');
  if (Array.isArray(last.content) && last.content.some((b) => isObject(b) && b.type === 'tool_result')) {
    return no('tool_result_last');
  }
  const text = textOf(last.content, 'text');
  if (typeof text !== 'string') return text;
  return withPlaceholder(material, 'messages', messages, text);
}

function responses(material: JsonObject, maxMessages: number): Eligibility {
  // State kept by the provider is history the fingerprint cannot see.
  if (material.previous_response_id != null || material.conversation != null) return no('hidden_history');
  if (positive(material.top_logprobs)) return no('logprobs');
  if (Array.isArray(material.include) && material.include.some((i) => typeof i === 'string' && i.includes('logprobs'))) {
    return no('logprobs');
  }
  const instructions = typeof material.instructions === 'string' && material.instructions.length > 0 ? 1 : 0;
  const input = material.input;
  if (typeof input === 'string') {
    if (1 + instructions > maxMessages) return no('too_many_messages');
    if (input.trim() === '') return no('empty_text');
    return { eligible: true, text: input, material: { ...material, input: TEXT_PLACEHOLDER } };
  }
  if (!Array.isArray(input) || input.length === 0) return no('last_not_user');
  if (input.length + instructions > maxMessages) return no('too_many_messages');
  const last = input[input.length - 1];
  if (!isObject(last)) return no('last_not_user');
  if (typeof last.type === 'string' && last.type.endsWith('_output')) return no('tool_result_last');
  if ((last.type !== undefined && last.type !== 'message') || last.role !== 'user') return no('last_not_user');
  const text = textOf(last.content, 'input_text');
  if (typeof text !== 'string') return text;
  return withPlaceholder(material, 'input', input, text);
}

function completions(material: JsonObject): Eligibility {
  if ((typeof material.n === 'number' && material.n > 1) || (typeof material.best_of === 'number' && material.best_of > 1)) {
    return no('n_gt_1');
  }
  if (material.logprobs != null) return no('logprobs');
  const prompt = material.prompt;
  if (typeof prompt !== 'string') return no('non_text_part');
  if (prompt.trim() === '') return no('empty_text');
  return { eligible: true, text: prompt, material: { ...material, prompt: TEXT_PLACEHOLDER } };
}

/** The text of a message's content: a string, or parts that are all text parts. */
function textOf(content: JsonValue | undefined, textType: string): string | Eligibility {
  let text: string;
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    const parts: string[] = [];
    for (const part of content) {
      if (!isObject(part) || part.type !== textType || typeof part.text !== 'string') return no('non_text_part');
      // A cache_control marker or similar on a text part changes nothing about the text.
      parts.push(part.text);
    }
    text = parts.join('\n');
  } else return no('empty_text');
  return text.trim() === '' ? no('empty_text') : text;
}

function withPlaceholder(material: JsonObject, field: string, list: JsonValue[], text: string): Eligibility {
  const last = list[list.length - 1] as JsonObject;
  const replaced = [...list.slice(0, -1), { ...last, content: TEXT_PLACEHOLDER }];
  return { eligible: true, text, material: { ...material, [field]: replaced } };
}

function positive(value: JsonValue | undefined): boolean {
  return typeof value === 'number' && value > 0;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function no(reason: ExactOnlyReason): Eligibility {
  return { eligible: false, reason };
}
