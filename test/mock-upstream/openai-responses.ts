import {
  answerTokens,
  asksForTool,
  createdFrom,
  endlessToken,
  estimateTokens,
  idFrom,
  isRecord,
  type JsonRecord,
  refusalTokens,
  splitFixed,
  toolArguments,
  withMarker,
} from './answer.js';
import {
  type MockProtocol,
  type MockReply,
  MockRequestError,
  type RequestContext,
  requireString,
  type SseEvent,
} from './protocol.js';

/**
 * POST /v1/responses (the Responses API): a `response` object whose `output` holds
 * reasoning / message / function_call items, or the named event stream response.created,
 * response.in_progress, per item output_item.added ... output_item.done, and a terminal
 * response.completed (response.incomplete when max_output_tokens cut it). Every event has
 * `event: NAME` and `"type":"NAME","sequence_number":n` in its data.
 */

const DONE_IN_CONTENT_MARKER = 'event: response.completed\n';
const ARGUMENT_PIECE_CHARS = 8;

type Item =
  | { type: 'reasoning'; id: string; tokens: string[] }
  | { type: 'message'; id: string; part: 'output_text' | 'refusal'; tokens: string[] }
  | { type: 'function_call'; id: string; callId: string; name: string; arguments: string };

/** An event before numbering: `delta` marks content, `tail` the closing section (see SseEvent). */
interface Draft {
  payload: JsonRecord;
  delta?: boolean;
  tail?: boolean;
}

export const openaiResponses: MockProtocol = {
  errorShape: 'openai',
  reply(context: RequestContext): MockReply {
    const { body, knobs, hash } = context;
    const model = requireString(body, 'model');
    const input = body.input;
    if (input === undefined && body.previous_response_id === undefined) {
      throw new MockRequestError(400, "Missing required parameter: 'input'.", 'input');
    }
    const maxOutput = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined;
    const tool = chooseTool(body, input, knobs.toolCall);

    const items: Item[] = [];
    if (knobs.reasoning) {
      items.push({
        type: 'reasoning',
        id: `rs_${idFrom(hash, 40, 2)}`,
        tokens: answerTokens(hash, 1000, Math.max(5, Math.ceil(knobs.words / 2))),
      });
    }
    let capped = false;
    if (tool && !knobs.refusal) {
      const args = JSON.stringify(toolArguments(tool.parameters, hash));
      items.push({
        type: 'function_call',
        id: `fc_${idFrom(hash, 40, 3)}`,
        callId: `call_${idFrom(hash, 24, 4)}`,
        name: tool.name,
        arguments: args,
      });
    } else {
      let tokens = knobs.refusal ? refusalTokens() : answerTokens(hash, 0, knobs.words);
      if (knobs.doneInContent && tokens.length > 0) tokens = withMarker(tokens, DONE_IN_CONTENT_MARKER);
      capped = maxOutput !== undefined && tokens.length > maxOutput;
      if (capped) tokens = tokens.slice(0, maxOutput);
      items.push({
        type: 'message',
        id: `msg_${idFrom(hash, 40, 1)}`,
        part: knobs.refusal ? 'refusal' : 'output_text',
        tokens,
      });
    }

    const inputTokens =
      estimateTokens(input) + (body.instructions === undefined ? 0 : estimateTokens(body.instructions));
    const reasoningTokens = items.reduce(
      (sum, item) => sum + (item.type === 'reasoning' ? item.tokens.length : 0),
      0,
    );
    const outputTokens = items.reduce(
      (sum, item) => sum + (item.type === 'function_call' ? 10 : item.tokens.length),
      0,
    );
    const usage = {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: reasoningTokens },
      total_tokens: inputTokens + outputTokens,
    };
    const responseBase = (status: string): JsonRecord => ({
      id: `resp_${idFrom(hash, 48)}`,
      object: 'response',
      created_at: createdFrom(hash),
      status,
      background: false,
      error: null,
      incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: body.instructions ?? null,
      max_output_tokens: maxOutput ?? null,
      model,
      output: [],
      parallel_tool_calls: true,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: null, summary: null },
      service_tier: 'default',
      store: body.store ?? true,
      temperature: body.temperature ?? 1,
      text: body.text ?? { format: { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: body.top_p ?? 1,
      truncation: 'disabled',
      usage: null,
      user: null,
      metadata: body.metadata ?? {},
    });
    const finalStatus = capped ? 'incomplete' : 'completed';
    const finalResponse = {
      ...responseBase(finalStatus),
      output: items.map((item) => finalItem(item, 'completed')),
      usage,
    };

    if (!context.stream) return { kind: 'json', contentChunks: outputTokens, body: finalResponse };

    const drafts: Draft[] = [
      { payload: { type: 'response.created', response: responseBase('in_progress') } },
      { payload: { type: 'response.in_progress', response: responseBase('in_progress') } },
    ];
    items.forEach((item, outputIndex) => {
      drafts.push(...itemDrafts(item, outputIndex));
    });
    drafts.push({ payload: { type: `response.${finalStatus}`, response: finalResponse }, tail: true });
    const events = drafts.map((draft, sequence) => toEvent(draft, sequence));

    const head = drafts.slice(0, 2);
    const endlessMessage: Item = {
      type: 'message',
      id: `msg_${idFrom(hash, 40, 1)}`,
      part: 'output_text',
      tokens: [],
    };
    return {
      kind: 'stream',
      plan: {
        events,
        doneMarker: 'response.completed',
        errorEvents: (sequenceStart) => {
          const message = 'The server had an error while processing your request (mock stream error).';
          const error = { type: 'error', code: 'server_error', message, param: null };
          const failed = { ...responseBase('failed'), error: { code: 'server_error', message } };
          return [
            toEvent({ payload: error }, sequenceStart),
            toEvent({ payload: { type: 'response.failed', response: failed } }, sequenceStart + 1),
          ];
        },
        *endless() {
          const opening = itemDrafts(endlessMessage, 0).slice(0, 2);
          let sequence = 0;
          for (const draft of [...head, ...opening]) yield toEvent(draft, sequence++);
          for (let i = 0; ; i++) {
            const payload = {
              type: 'response.output_text.delta',
              item_id: endlessMessage.id,
              output_index: 0,
              content_index: 0,
              delta: endlessToken(i),
              logprobs: [],
            };
            yield toEvent({ payload, delta: true }, sequence++);
          }
        },
      },
    };
  },
};

function toEvent(draft: Draft, sequence: number): SseEvent {
  const type = String(draft.payload.type);
  const event: SseEvent = {
    event: type,
    data: JSON.stringify({ ...draft.payload, sequence_number: sequence }),
  };
  if (draft.delta) event.delta = true;
  if (draft.tail) event.tail = true;
  return event;
}

function chooseTool(
  body: JsonRecord,
  input: unknown,
  knob: boolean,
): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body.tools)
    ? body.tools.filter((t) => isRecord(t) && t.type === 'function')
    : [];
  const choice = body.tool_choice;
  if (tools.length === 0 || choice === 'none') return undefined;
  const lastUser = Array.isArray(input)
    ? [...input].reverse().find((m) => isRecord(m) && m.role === 'user')
    : input;
  const wanted = knob || choice === 'required' || isRecord(choice) || asksForTool(lastUser);
  if (!wanted) return undefined;
  const named = isRecord(choice) ? choice.name : undefined;
  const picked = tools.filter(isRecord).find((t) => t.name === named) ?? tools.filter(isRecord)[0];
  return { name: typeof picked?.name === 'string' ? picked.name : 'tool', parameters: picked?.parameters };
}

function contentPart(item: Extract<Item, { type: 'message' }>, text: string): JsonRecord {
  return item.part === 'refusal'
    ? { type: 'refusal', refusal: text }
    : { type: 'output_text', annotations: [], logprobs: [], text };
}

function finalItem(item: Item, status: 'in_progress' | 'completed'): JsonRecord {
  const done = status === 'completed';
  switch (item.type) {
    case 'reasoning':
      return {
        id: item.id,
        type: 'reasoning',
        summary: done ? [{ type: 'summary_text', text: item.tokens.join('') }] : [],
      };
    case 'message':
      return {
        id: item.id,
        type: 'message',
        status,
        content: done ? [contentPart(item, item.tokens.join(''))] : [],
        role: 'assistant',
      };
    case 'function_call':
      return {
        id: item.id,
        type: 'function_call',
        status,
        arguments: done ? item.arguments : '',
        call_id: item.callId,
        name: item.name,
      };
  }
}

/** The events for one output item, from output_item.added to output_item.done. */
function itemDrafts(item: Item, outputIndex: number): Draft[] {
  const at = { item_id: item.id, output_index: outputIndex };
  const drafts: Draft[] = [
    {
      payload: {
        type: 'response.output_item.added',
        output_index: outputIndex,
        item: finalItem(item, 'in_progress'),
      },
    },
  ];
  if (item.type === 'reasoning') {
    const text = item.tokens.join('');
    const summary = { ...at, summary_index: 0 };
    drafts.push({
      payload: {
        type: 'response.reasoning_summary_part.added',
        ...summary,
        part: { type: 'summary_text', text: '' },
      },
    });
    for (const delta of item.tokens) {
      drafts.push({
        payload: { type: 'response.reasoning_summary_text.delta', ...summary, delta },
        delta: true,
      });
    }
    drafts.push({ payload: { type: 'response.reasoning_summary_text.done', ...summary, text } });
    drafts.push({
      payload: {
        type: 'response.reasoning_summary_part.done',
        ...summary,
        part: { type: 'summary_text', text },
      },
    });
  } else if (item.type === 'message') {
    const text = item.tokens.join('');
    const part = { ...at, content_index: 0 };
    const refusal = item.part === 'refusal';
    drafts.push({ payload: { type: 'response.content_part.added', ...part, part: contentPart(item, '') } });
    for (const delta of item.tokens) {
      const payload = refusal
        ? { type: 'response.refusal.delta', ...part, delta }
        : { type: 'response.output_text.delta', ...part, delta, logprobs: [] };
      drafts.push({ payload, delta: true });
    }
    drafts.push({
      payload: refusal
        ? { type: 'response.refusal.done', ...part, refusal: text }
        : { type: 'response.output_text.done', ...part, text, logprobs: [] },
      tail: true,
    });
    drafts.push({
      payload: { type: 'response.content_part.done', ...part, part: contentPart(item, text) },
      tail: true,
    });
  } else {
    for (const delta of splitFixed(item.arguments, ARGUMENT_PIECE_CHARS)) {
      drafts.push({ payload: { type: 'response.function_call_arguments.delta', ...at, delta }, delta: true });
    }
    drafts.push({
      payload: {
        type: 'response.function_call_arguments.done',
        ...at,
        name: item.name,
        arguments: item.arguments,
      },
      tail: true,
    });
  }
  drafts.push({
    payload: {
      type: 'response.output_item.done',
      output_index: outputIndex,
      item: finalItem(item, 'completed'),
    },
    tail: true,
  });
  return drafts;
}
