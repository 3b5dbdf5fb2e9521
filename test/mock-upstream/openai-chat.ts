import {
  answerTokens,
  asksForTool,
  createdFrom,
  createRandom,
  endlessToken,
  estimateTokens,
  idFrom,
  isRecord,
  type JsonRecord,
  refusalTokens,
  seedFrom,
  splitFixed,
  toolArguments,
  withMarker,
} from './answer.js';
import { openaiErrorBody } from './errors.js';
import {
  type MockProtocol,
  type MockReply,
  MockRequestError,
  optionalInteger,
  type RequestContext,
  requireString,
  type SseEvent,
  type StreamPlan,
  sse,
  tailEvent,
} from './protocol.js';

/**
 * POST /v1/chat/completions, shaped like api.openai.com in 2025: `chat.completion` JSON,
 * or `chat.completion.chunk` events ending in `data: [DONE]`. With
 * `stream_options.include_usage` every chunk carries `usage: null` and one extra chunk with
 * `choices: []` carries the totals, as the real API does.
 */

const DONE_IN_CONTENT_MARKER = 'data: [DONE]\n\n';
const ARGUMENT_PIECE_CHARS = 8;

interface ToolCallPlan {
  id: string;
  name: string;
  arguments: string;
}

interface ChoicePlan {
  index: number;
  reasoning: string[];
  content: string[];
  refusal: string[];
  toolCall: ToolCallPlan | undefined;
  finishReason: 'stop' | 'length' | 'tool_calls';
  logprobs: JsonRecord[] | undefined;
}

export const openaiChat: MockProtocol = {
  errorShape: 'openai',
  reply(context: RequestContext): MockReply {
    const { body, knobs, hash } = context;
    const model = requireString(body, 'model');
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new MockRequestError(400, "Missing required parameter: 'messages'.", 'messages');
    }
    const n = optionalInteger(body, 'n', 1, 128) ?? 1;
    const maxTokens =
      optionalInteger(body, 'max_completion_tokens', 1, 1_000_000) ??
      optionalInteger(body, 'max_tokens', 1, 1_000_000);
    const topLogprobs = optionalInteger(body, 'top_logprobs', 0, 20) ?? 0;
    const tool = chooseTool(body, messages, knobs.toolCall);

    const choices: ChoicePlan[] = [];
    for (let index = 0; index < n; index++) {
      let content = knobs.refusal || tool ? [] : answerTokens(hash, index, knobs.words);
      if (knobs.doneInContent && content.length > 0) content = withMarker(content, DONE_IN_CONTENT_MARKER);
      const capped = maxTokens !== undefined && content.length > maxTokens;
      if (capped) content = content.slice(0, maxTokens);
      const toolCall: ToolCallPlan | undefined = tool
        ? {
            id: `call_${idFrom(hash, 24, index + 1)}`,
            name: tool.name,
            arguments: JSON.stringify(toolArguments(tool.parameters, hash)),
          }
        : undefined;
      choices.push({
        index,
        reasoning: knobs.reasoning
          ? answerTokens(hash, 1000 + index, Math.max(5, Math.ceil(knobs.words / 2)))
          : [],
        content,
        refusal: knobs.refusal ? refusalTokens() : [],
        toolCall,
        finishReason: toolCall ? 'tool_calls' : capped ? 'length' : 'stop',
        logprobs: body.logprobs === true ? tokenLogprobs(content, hash, index, topLogprobs) : undefined,
      });
    }

    const completionTokens = choices.reduce(
      (sum, c) => sum + c.content.length + c.reasoning.length + c.refusal.length + (c.toolCall ? 10 : 0),
      0,
    );
    const promptTokens = estimateTokens(messages);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: choices.reduce((sum, c) => sum + c.reasoning.length, 0),
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const base = {
      id: `chatcmpl-${idFrom(hash, 29)}`,
      object: 'chat.completion.chunk' as const,
      created: createdFrom(hash),
      model,
      service_tier: 'default',
      system_fingerprint: `fp_${hash.slice(0, 10)}`,
    };

    if (!context.stream) {
      return {
        kind: 'json',
        contentChunks: choices[0]?.content.length ?? 0,
        body: {
          id: base.id,
          object: 'chat.completion',
          created: base.created,
          model,
          choices: choices.map(messageChoice),
          usage,
          service_tier: base.service_tier,
          system_fingerprint: base.system_fingerprint,
        },
      };
    }
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    return { kind: 'stream', plan: streamPlan(base, choices, usage, streamOptions.include_usage === true) };
  },
};

function chooseTool(
  body: JsonRecord,
  messages: unknown[],
  knob: boolean,
): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const choice = body.tool_choice;
  if (tools.length === 0 || choice === 'none') return undefined;
  const lastUser = [...messages].reverse().find((m) => isRecord(m) && m.role === 'user');
  const wanted =
    knob ||
    choice === 'required' ||
    isRecord(choice) ||
    asksForTool(isRecord(lastUser) ? lastUser.content : '');
  if (!wanted) return undefined;
  const named = isRecord(choice) && isRecord(choice.function) ? choice.function.name : undefined;
  const functions = tools.map((t) => (isRecord(t.function) ? t.function : t));
  const picked = functions.find((f) => f.name === named) ?? functions[0];
  return { name: typeof picked?.name === 'string' ? picked.name : 'tool', parameters: picked?.parameters };
}

function tokenLogprobs(tokens: string[], hash: string, choice: number, top: number): JsonRecord[] {
  const random = createRandom(seedFrom(hash, 100 + choice));
  return tokens.map((token, position) => {
    const logprob = -Math.round(random() * 200_000) / 100_000;
    const alternatives: JsonRecord[] = [];
    for (let k = 0; k < top; k++) {
      const alt = k === 0 ? token : endlessToken(position + k * 7);
      alternatives.push({ token: alt, logprob: logprob - k * 0.5, bytes: [...Buffer.from(alt, 'utf8')] });
    }
    return { token, logprob, bytes: [...Buffer.from(token, 'utf8')], top_logprobs: alternatives };
  });
}

function messageChoice(choice: ChoicePlan): JsonRecord {
  const message: JsonRecord = {
    role: 'assistant',
    content: choice.toolCall || choice.refusal.length > 0 ? null : choice.content.join(''),
    refusal: choice.refusal.length > 0 ? choice.refusal.join('') : null,
    annotations: [],
  };
  if (choice.reasoning.length > 0) message.reasoning_content = choice.reasoning.join('');
  if (choice.toolCall) {
    const { id, name } = choice.toolCall;
    message.tool_calls = [{ id, type: 'function', function: { name, arguments: choice.toolCall.arguments } }];
  }
  return {
    index: choice.index,
    message,
    logprobs: choice.logprobs ? { content: choice.logprobs, refusal: null } : null,
    finish_reason: choice.finishReason,
  };
}

interface ChunkBase {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  service_tier: string;
  system_fingerprint: string;
}

const rawEvent = (data: string): SseEvent => ({ data });
const rawDelta = (data: string): SseEvent => ({ data, delta: true });
const rawTail = (data: string): SseEvent => ({ data, tail: true });

function streamPlan(
  base: ChunkBase,
  choices: ChoicePlan[],
  usage: JsonRecord,
  includeUsage: boolean,
): StreamPlan {
  // Every chunk repeats the same envelope: serialise it once, only the choices vary (benchmarks hit this path hardest).
  const envelope = JSON.stringify({ ...base, choices: [] });
  const prefix = envelope.slice(0, -'[]}'.length);
  const suffix = includeUsage ? '],"usage":null}' : ']}';
  const chunk = (choicesPart: JsonRecord[]): string =>
    `${prefix}[${choicesPart.map((p) => JSON.stringify(p)).join(',')}${suffix}`;
  const part = (
    index: number,
    delta: JsonRecord,
    logprobs: unknown = null,
    finish: string | null = null,
  ) => ({
    index,
    delta,
    logprobs,
    finish_reason: finish,
  });
  const roleDelta = (c: ChoicePlan): JsonRecord =>
    c.toolCall || c.refusal.length > 0
      ? { role: 'assistant', content: null, refusal: null }
      : { role: 'assistant', content: '', refusal: null };

  const roles = choices.map((c) => rawEvent(chunk([part(c.index, roleDelta(c))])));
  // Per choice, the ordered deltas; the stream interleaves choices step by step like the real API.
  const perChoice: SseEvent[][] = choices.map((c) => {
    const events: SseEvent[] = [];
    for (const token of c.reasoning)
      events.push(rawDelta(chunk([part(c.index, { reasoning_content: token })])));
    c.content.forEach((token, i) => {
      const logprobs = c.logprobs ? { content: [c.logprobs[i]], refusal: null } : null;
      events.push(rawDelta(chunk([part(c.index, { content: token }, logprobs)])));
    });
    for (const token of c.refusal) events.push(rawDelta(chunk([part(c.index, { refusal: token })])));
    if (c.toolCall) {
      const { id, name } = c.toolCall;
      const opening = { index: 0, id, type: 'function', function: { name, arguments: '' } };
      events.push(rawDelta(chunk([part(c.index, { tool_calls: [opening] })])));
      for (const piece of splitFixed(c.toolCall.arguments, ARGUMENT_PIECE_CHARS)) {
        events.push(
          rawDelta(chunk([part(c.index, { tool_calls: [{ index: 0, function: { arguments: piece } }] })])),
        );
      }
    }
    return events;
  });
  const middle: SseEvent[] = [];
  const longest = Math.max(0, ...perChoice.map((events) => events.length));
  for (let step = 0; step < longest; step++) {
    for (const events of perChoice) {
      const event = events[step];
      if (event) middle.push(event);
    }
  }
  const tail = choices.map((c) => rawTail(chunk([part(c.index, {}, null, c.finishReason)])));
  if (includeUsage) tail.push(tailEvent({ ...base, choices: [], usage }));
  tail.push({ data: '[DONE]', tail: true });

  const firstRole = roles[0];
  return {
    events: [...roles, ...middle, ...tail],
    doneMarker: '[DONE]',
    errorEvents: () => [
      sse(openaiErrorBody(500, 'The server had an error while processing your request (mock stream error).')),
    ],
    *endless() {
      if (firstRole) yield firstRole;
      for (let i = 0; ; i++) yield rawDelta(chunk([part(0, { content: endlessToken(i) })]));
    },
  };
}
