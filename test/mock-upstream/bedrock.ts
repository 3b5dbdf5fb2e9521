import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeEventStreamMessage } from '../../src/sse/eventstream.js';
import {
  answerTokens,
  estimateTokens,
  idFrom,
  isRecord,
  type JsonRecord,
  requestHash,
  splitFixed,
  toolArguments,
} from './answer.js';
import { anthropicMessages } from './anthropic-messages.js';
import { checkBedrockAuth } from './bedrock-auth.js';
import type { ClientWatch } from './client-watch.js';
import type { Knobs } from './knobs.js';
import { MockRequestError } from './protocol.js';

/**
 * Bedrock Runtime, shaped like bedrock-runtime.{region}.amazonaws.com:
 *   POST /model/{modelId}/converse | converse-stream | invoke | invoke-with-response-stream
 * Requests must carry `Authorization: Bearer <key>` or a valid SigV4 signature by
 * MOCK_AWS_CREDENTIALS (else 403, as AWS answers). Streams are event-stream frames with the
 * `p` padding field real Bedrock adds. InvokeModel speaks Anthropic's format for `anthropic.*`
 * model ids and a Llama-like format for any other.
 *
 * Knobs (request headers, see knobs.ts): x-mock-words, x-mock-delay-ms, x-mock-split,
 * x-mock-truncate (end cleanly after N content frames), x-mock-reset, x-mock-status (error with
 * the x-amzn-ErrorType of the status: 429 ThrottlingException...), x-mock-tool-call,
 * x-mock-unique, and two of its own:
 *   x-mock-exception: NAME   halfway through the content, an exception frame (`:message-type`
 *                            exception, e.g. throttlingException), then the stream ends.
 *                            x-mock-error-event: 1 does the same with modelStreamErrorException.
 *   x-mock-bad-crc: N        the message CRC of frame N (0-based) is corrupted.
 */

interface Frame {
  bytes: Uint8Array;
  /** Carries generated content: what truncate/reset/exception knobs count. */
  delta: boolean;
}

const EXCEPTION_BY_STATUS: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

const OPERATIONS = new Set(['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream']);

export async function handleBedrock(
  req: IncomingMessage,
  res: ServerResponse,
  raw: Buffer,
  knobs: Knobs,
  requestNumber: number,
  watch: ClientWatch,
  onFramesWritten: (count: number) => void,
  onAborted: () => void,
): Promise<void> {
  res.once('close', () => {
    if (!res.writableFinished && res.headersSent) onAborted();
  });
  const requestId = `${idFrom(String(requestNumber).padStart(8, '0'), 8)}-mock-${requestNumber}`;
  res.setHeader('x-amzn-requestid', requestId);
  const fail = (
    status: number,
    message: string,
    exception = EXCEPTION_BY_STATUS[status] ?? 'InternalServerException',
  ) => {
    const text = JSON.stringify({ message });
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-errortype': `${exception}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });
    res.end(text);
  };

  const auth = await checkBedrockAuth(req.method ?? 'POST', req.url ?? '/', req.headers, raw);
  if (!auth.ok) return fail(auth.status, auth.message, auth.exception);

  const match = /^\/model\/([^/]+)\/([a-z-]+)$/.exec((req.url ?? '/').split('?', 1)[0] ?? '/');
  if (!match || !OPERATIONS.has(match[2] as string))
    return fail(404, 'UnknownOperationException', 'UnknownOperationException');
  const modelId = decodeURIComponent(match[1] as string);
  const operation = match[2] as string;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(400, 'Malformed input request, please reformat your input and try again.');
  }
  if (!isRecord(body)) return fail(400, 'Malformed input request: expected a JSON object.');
  if (knobs.status !== undefined && knobs.status >= 300)
    return fail(knobs.status, `mock status ${knobs.status}`);

  const hash = requestHash(
    { modelId, operation: operation.startsWith('converse') ? 'converse' : operation, body },
    knobs.unique ? `#${requestNumber}` : '',
  );
  const stream = operation.endsWith('-stream');
  try {
    if (operation.startsWith('converse')) {
      const answer = converseAnswer(body, knobs, hash);
      if (!stream) return sendJson(res, answer.json);
      return writeFrames(res, answer.frames, knobs, watch, onFramesWritten);
    }
    const invoke = invokeAnswer(modelId, body, knobs, hash, stream);
    if (invoke.kind === 'json') return sendJson(res, invoke.json);
    res.setHeader('x-amzn-bedrock-content-type', 'application/json');
    return writeFrames(res, invoke.frames, knobs, watch, onFramesWritten);
  } catch (error) {
    if (error instanceof MockRequestError) return fail(error.status, error.message);
    throw error;
  }
}

function sendJson(res: ServerResponse, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0';

function eventFrame(type: string, payload: JsonRecord, index: number, delta = false): Frame {
  const str = (value: string) => ({ type: 'string', value }) as const;
  // Real Bedrock pads every event with a `p` field of varying length (against length side channels).
  const padded = { ...payload, p: PADDING.slice(0, 1 + ((index * 7) % PADDING.length)) };
  return {
    bytes: encodeEventStreamMessage({
      headers: {
        ':event-type': str(type),
        ':content-type': str('application/json'),
        ':message-type': str('event'),
      },
      payload: new TextEncoder().encode(JSON.stringify(padded)),
    }),
    delta,
  };
}

function exceptionFrame(name: string, message: string): Frame {
  const str = (value: string) => ({ type: 'string', value }) as const;
  return {
    bytes: encodeEventStreamMessage({
      headers: {
        ':exception-type': str(name),
        ':content-type': str('application/json'),
        ':message-type': str('exception'),
      },
      payload: new TextEncoder().encode(JSON.stringify({ message })),
    }),
    delta: false,
  };
}

function converseTool(body: JsonRecord, knobs: Knobs): { name: string; schema: unknown } | undefined {
  const config = isRecord(body.toolConfig) ? body.toolConfig : {};
  const tools = Array.isArray(config.tools) ? config.tools.filter(isRecord) : [];
  const spec = tools.map((t) => t.toolSpec).find(isRecord);
  if (!spec || !knobs.toolCall) return undefined;
  const schema = isRecord(spec.inputSchema) ? spec.inputSchema.json : undefined;
  return { name: typeof spec.name === 'string' ? spec.name : 'tool', schema };
}

function converseAnswer(body: JsonRecord, knobs: Knobs, hash: string): { json: JsonRecord; frames: Frame[] } {
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new MockRequestError(400, 'The model returned the following errors: messages: field required');
  }
  const tokens = answerTokens(hash, 0, knobs.words);
  const tool = converseTool(body, knobs);
  const toolUse = tool
    ? {
        toolUseId: `tooluse_${idFrom(hash, 22, 3)}`,
        name: tool.name,
        input: toolArguments(tool.schema, hash),
      }
    : undefined;
  const stopReason = toolUse ? 'tool_use' : 'end_turn';
  const inputTokens =
    estimateTokens(body.messages) + (body.system === undefined ? 0 : estimateTokens(body.system));
  const outputTokens = tokens.length + (toolUse ? 10 : 0);
  const usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  const metrics = { latencyMs: 100 + (Number.parseInt(hash.slice(0, 4), 16) % 900) };
  const content: JsonRecord[] = [{ text: tokens.join('') }];
  if (toolUse) content.push({ toolUse });
  const json = { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics };

  let i = 0;
  const frames: Frame[] = [eventFrame('messageStart', { role: 'assistant' }, i++)];
  for (const text of tokens)
    frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }, i++, true));
  frames.push(eventFrame('contentBlockStop', { contentBlockIndex: 0 }, i++));
  if (toolUse) {
    const { input, ...start } = toolUse;
    frames.push(eventFrame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: start } }, i++));
    for (const piece of splitFixed(JSON.stringify(input), 8)) {
      frames.push(
        eventFrame(
          'contentBlockDelta',
          { contentBlockIndex: 1, delta: { toolUse: { input: piece } } },
          i++,
          true,
        ),
      );
    }
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex: 1 }, i++));
  }
  frames.push(eventFrame('messageStop', { stopReason }, i++));
  frames.push(eventFrame('metadata', { usage, metrics }, i++));
  return { json, frames };
}

type InvokeAnswer = { kind: 'json'; json: unknown } | { kind: 'stream'; frames: Frame[] };

function invokeAnswer(
  modelId: string,
  body: JsonRecord,
  knobs: Knobs,
  hash: string,
  stream: boolean,
): InvokeAnswer {
  const chunk = (data: JsonRecord, index: number, delta = false) =>
    eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(data)).toString('base64') }, index, delta);
  if (/(^|[.:/])anthropic\./.test(modelId)) {
    const { anthropic_version: _version, ...rest } = body;
    const reply = anthropicMessages.reply({ body: { ...rest, model: modelId }, knobs, hash, stream });
    if (reply.kind === 'json') return { kind: 'json', json: reply.body };
    const events = reply.plan.events;
    return {
      kind: 'stream',
      frames: events.map((event, index) => {
        const data = JSON.parse(event.data) as JsonRecord;
        if (data.type === 'message_stop') {
          data['amazon-bedrock-invocationMetrics'] = {
            inputTokenCount: 12,
            outputTokenCount: knobs.words,
            invocationLatency: 321,
            firstByteLatency: 45,
          };
        }
        return chunk(data, index, event.delta === true);
      }),
    };
  }
  // Any other family: Llama's shape, which Sluice does not know how to judge.
  const tokens = answerTokens(hash, 0, knobs.words);
  const promptTokens = estimateTokens(body.prompt ?? body);
  if (!stream) {
    return {
      kind: 'json',
      json: {
        generation: tokens.join(''),
        prompt_token_count: promptTokens,
        generation_token_count: tokens.length,
        stop_reason: 'stop',
      },
    };
  }
  const frames = tokens.map((generation, index) =>
    chunk(
      {
        generation,
        prompt_token_count: index === 0 ? promptTokens : null,
        generation_token_count: index + 1,
        stop_reason: null,
      },
      index,
      true,
    ),
  );
  frames.push(
    chunk(
      {
        generation: '',
        prompt_token_count: null,
        generation_token_count: tokens.length,
        stop_reason: 'stop',
      },
      frames.length,
    ),
  );
  return { kind: 'stream', frames };
}

async function writeFrames(
  res: ServerResponse,
  frames: Frame[],
  knobs: Knobs,
  watch: ClientWatch,
  onFramesWritten: (count: number) => void,
): Promise<void> {
  const deltaCount = frames.filter((f) => f.delta).length;
  const exception =
    headerOf(res, 'x-mock-exception') ?? (knobs.errorEvent ? 'modelStreamErrorException' : undefined);
  const badCrc = numberHeader(res, 'x-mock-bad-crc');
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  res.flushHeaders();
  let deltas = 0;
  for (const [index, frame] of frames.entries()) {
    if (watch.gone) return;
    if (exception !== undefined && frame.delta && deltas === Math.floor(deltaCount / 2)) {
      await write(res, exceptionFrame(exception, `mock ${exception} mid-stream`).bytes, knobs);
      onFramesWritten(1);
      res.end();
      return;
    }
    if (knobs.truncateAfter !== undefined && frame.delta && deltas === knobs.truncateAfter) {
      res.end();
      return;
    }
    if (knobs.resetAfter !== undefined && frame.delta && deltas === knobs.resetAfter) {
      res.socket?.destroy();
      return;
    }
    let bytes = frame.bytes;
    if (badCrc === index) {
      bytes = Uint8Array.from(bytes);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    }
    await write(res, bytes, knobs);
    onFramesWritten(1);
    if (frame.delta) deltas++;
    if (knobs.delayMs > 0 && index < frames.length - 1 && !(await watch.sleep(knobs.delayMs))) return;
  }
  res.end();
}

async function write(res: ServerResponse, bytes: Uint8Array, knobs: Knobs): Promise<void> {
  if (knobs.splitBytes <= 0) {
    res.write(bytes);
    return;
  }
  for (let at = 0; at < bytes.length; at += knobs.splitBytes) {
    res.write(bytes.subarray(at, at + knobs.splitBytes));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function headerOf(res: ServerResponse, name: string): string | undefined {
  const value = res.req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberHeader(res: ServerResponse, name: string): number | undefined {
  const value = headerOf(res, name);
  return value === undefined ? undefined : Number(value);
}
