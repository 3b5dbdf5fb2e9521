import {
  answerTokens,
  asksForTool,
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
import { anthropicErrorBody } from './errors.js';
import {
  deltaEvent,
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
 * POST /v1/messages, shaped like api.anthropic.com: a `message` with content blocks
 * (thinking, text, tool_use), or the event stream message_start, content_block_start,
 * ping, content_block_delta..., content_block_stop, message_delta, message_stop. Every
 * event has its `event:` line; the Anthropic SDK ignores events without one.
 */

const DONE_IN_CONTENT_MARKER = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
const ARGUMENT_PIECE_CHARS = 8;

type Block =
  | { type: 'thinking'; tokens: string[]; signature: string }
  | { type: 'text'; tokens: string[] }
  | { type: 'tool_use'; id: string; name: string; input: JsonRecord };

export const anthropicMessages: MockProtocol = {
  errorShape: 'anthropic',
  reply(context: RequestContext): MockReply {
    const { body, knobs, hash } = context;
    const model = requireString(body, 'model');
    const maxTokens = optionalInteger(body, 'max_tokens', 1, 1_000_000);
    if (maxTokens === undefined) throw new MockRequestError(400, 'max_tokens: Field required', 'max_tokens');
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new MockRequestError(400, 'messages: Field required', 'messages');
    }

    const thinkingType = isRecord(body.thinking) ? body.thinking.type : undefined;
    const tool = chooseTool(body, messages, knobs.toolCall);
    const blocks: Block[] = [];
    if (knobs.reasoning || thinkingType === 'enabled' || thinkingType === 'adaptive') {
      const tokens = answerTokens(hash, 1000, Math.max(5, Math.ceil(knobs.words / 2)));
      blocks.push({
        type: 'thinking',
        tokens,
        signature: Buffer.from(hash + hash, 'hex').toString('base64'),
      });
    }
    let text = knobs.refusal ? refusalTokens() : answerTokens(hash, 0, knobs.words);
    if (knobs.doneInContent && text.length > 0) text = withMarker(text, DONE_IN_CONTENT_MARKER);
    const capped = text.length > maxTokens;
    if (capped) text = text.slice(0, maxTokens);
    if (text.length > 0) blocks.push({ type: 'text', tokens: text });
    if (tool && !knobs.refusal && !capped) {
      blocks.push({
        type: 'tool_use',
        id: `toolu_01${idFrom(hash, 22, 3)}`,
        name: tool.name,
        input: toolArguments(tool.schema, hash),
      });
    }
    const stopReason = knobs.refusal
      ? 'refusal'
      : capped
        ? 'max_tokens'
        : blocks.some((b) => b.type === 'tool_use')
          ? 'tool_use'
          : 'end_turn';

    const inputTokens =
      estimateTokens(messages) + (body.system === undefined ? 0 : estimateTokens(body.system));
    const outputTokens = blocks.reduce((sum, b) => sum + (b.type === 'tool_use' ? 10 : b.tokens.length), 0);
    const message = {
      id: `msg_01${idFrom(hash, 22)}`,
      type: 'message',
      role: 'assistant',
      model,
    };
    const usage = (output: number): JsonRecord => ({
      input_tokens: inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: output,
      service_tier: 'standard',
    });

    if (!context.stream) {
      return {
        kind: 'json',
        contentChunks: text.length,
        body: {
          ...message,
          content: blocks.map(finalBlock),
          stop_reason: stopReason,
          stop_sequence: null,
          usage: usage(outputTokens),
        },
      };
    }

    const start = sse(
      {
        type: 'message_start',
        message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: usage(1) },
      },
      'message_start',
    );
    const ping = sse({ type: 'ping' }, 'ping');
    const middle: SseEvent[] = [];
    blocks.forEach((block, index) => {
      middle.push(
        sse(
          { type: 'content_block_start', index, content_block: openingBlock(block) },
          'content_block_start',
        ),
      );
      if (index === 0) middle.push(ping);
      for (const delta of blockDeltas(block)) {
        middle.push(deltaEvent({ type: 'content_block_delta', index, delta }, 'content_block_delta'));
      }
      if (block.type === 'thinking') {
        const signature = { type: 'signature_delta', signature: block.signature };
        middle.push(sse({ type: 'content_block_delta', index, delta: signature }, 'content_block_delta'));
      }
      middle.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
    });
    const tail = [
      tailEvent(
        {
          type: 'message_delta',
          delta: { stop_reason: stopReason, stop_sequence: null },
          usage: {
            input_tokens: inputTokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            output_tokens: outputTokens,
          },
        },
        'message_delta',
      ),
      tailEvent({ type: 'message_stop' }, 'message_stop'),
    ];
    const requestId = `req_01${idFrom(hash, 22, 5)}`;
    const plan: StreamPlan = {
      events: [start, ...middle, ...tail],
      doneMarker: 'message_stop',
      errorEvents: () => [sse(anthropicErrorBody(529, requestId), 'error')],
      *endless() {
        yield start;
        yield sse(
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          'content_block_start',
        );
        yield ping;
        for (let i = 0; ; i++) {
          const delta = { type: 'text_delta', text: endlessToken(i) };
          yield deltaEvent({ type: 'content_block_delta', index: 0, delta }, 'content_block_delta');
        }
      },
    };
    return { kind: 'stream', plan };
  },
};

function chooseTool(
  body: JsonRecord,
  messages: unknown[],
  knob: boolean,
): { name: string; schema: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  const choice = isRecord(body.tool_choice) ? body.tool_choice : {};
  if (tools.length === 0 || choice.type === 'none') return undefined;
  const lastUser = [...messages].reverse().find((m) => isRecord(m) && m.role === 'user');
  const forced = choice.type === 'any' || choice.type === 'tool';
  if (!knob && !forced && !asksForTool(isRecord(lastUser) ? lastUser.content : '')) return undefined;
  const picked = tools.find((t) => t.name === choice.name) ?? tools[0];
  return { name: typeof picked?.name === 'string' ? picked.name : 'tool', schema: picked?.input_schema };
}

function openingBlock(block: Block): JsonRecord {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'text':
      return { type: 'text', text: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
  }
}

function finalBlock(block: Block): JsonRecord {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: block.tokens.join(''), signature: block.signature };
    case 'text':
      return { type: 'text', text: block.tokens.join('') };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  }
}

function blockDeltas(block: Block): JsonRecord[] {
  switch (block.type) {
    case 'thinking':
      return block.tokens.map((thinking) => ({ type: 'thinking_delta', thinking }));
    case 'text':
      return block.tokens.map((text) => ({ type: 'text_delta', text }));
    case 'tool_use':
      return splitFixed(JSON.stringify(block.input), ARGUMENT_PIECE_CHARS).map((partial_json) => ({
        type: 'input_json_delta',
        partial_json,
      }));
  }
}
