import type { JsonValue, Usage } from '../protocols/types.js';
import { LibraryError } from './errors.js';

/** A plain JSON copy of a key argument; anything JSON cannot express would make keys lie. */
export function toJson(value: unknown, field: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new LibraryError('LIB_INVALID_ARGUMENT', `${field} cannot be serialized to JSON: ${String(err)}`, {
      cause: err,
      field,
    });
  }
  if (text === undefined) throw new LibraryError('LIB_INVALID_ARGUMENT', `${field} must be a JSON value`, { field });
  return JSON.parse(text) as JsonValue;
}

/**
 * Token usage found in produced values, for stats: the last `usage` object in OpenAI
 * (`prompt_tokens` / `completion_tokens`, `input_tokens` / `output_tokens`) or Anthropic shape.
 */
export function findUsage(values: readonly unknown[]): Usage | undefined {
  let input: number | undefined;
  let output: number | undefined;
  for (const value of values) {
    const usage = usageField(value);
    if (!usage) continue;
    const i = numberField(usage, 'prompt_tokens') ?? numberField(usage, 'input_tokens');
    const o = numberField(usage, 'completion_tokens') ?? numberField(usage, 'output_tokens');
    if (i !== undefined) input = i;
    if (o !== undefined) output = o;
  }
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

function usageField(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  // Anthropic stream events nest it: message_start.message.usage, message_delta.usage.
  const usage = record.usage ?? (record.message as Record<string, unknown> | undefined)?.usage;
  return typeof usage === 'object' && usage !== null ? (usage as Record<string, unknown>) : undefined;
}

function numberField(record: Record<string, unknown>, name: string): number | undefined {
  const value = record[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
