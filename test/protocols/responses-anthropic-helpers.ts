import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject, JsonValue, RequestInfo } from '../../src/protocols/types.js';
import type { SseEvent, SseEventInit } from '../../src/sse/types.js';

/**
 * Test helpers and recorded-stream fixtures for the Responses and Anthropic protocol tests. They
 * build SseEvent lists without the real SSE decoder, so these tests exercise the protocols alone.
 */

/** `event: X\ndata: Y\n\n` framing, one `data:` line per line of data, as the APIs send it. */
export function encodeSse(events: readonly SseEventInit[]): string {
  return events.map(encodeOne).join('');
}

function encodeOne(event: SseEventInit): string {
  const name = event.event === undefined ? '' : `event: ${event.event}\n`;
  const data = event.data
    .split('\n')
    .map((line) => `data: ${line}\n`)
    .join('');
  return `${name}${data}\n`;
}

/** SseEvents as a decoder would produce them from `encodeSse(events)`, with matching byte offsets. */
export function toSseEvents(events: readonly SseEventInit[]): SseEvent[] {
  let offset = 0;
  return events.map((event) => {
    const length = Buffer.byteLength(encodeOne(event));
    const out: SseEvent = {
      event: event.event,
      data: event.data,
      id: event.id,
      retry: event.retry,
      start: offset,
      end: offset + length,
    };
    offset += length;
    return out;
  });
}

/**
 * Parse a hand-written recorded stream (LF framing, `event:` and `data:` fields only) into
 * SseEvents. Deliberately minimal: fixtures are written in the exact framing the APIs use.
 */
export function parseRecorded(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let offset = 0;
  for (const frame of text.split('\n\n')) {
    const length = Buffer.byteLength(frame) + 2;
    const lines = frame.split('\n').filter((line) => line !== '');
    if (lines.length > 0) {
      const name = lines
        .find((line) => line.startsWith('event:'))
        ?.slice(6)
        .trim();
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      events.push({
        event: name,
        data,
        id: undefined,
        retry: undefined,
        start: offset,
        end: offset + length,
      });
    }
    offset += length;
  }
  return events;
}

/** Build an SSE fixture from `[event name, payload]` pairs, in the APIs' exact framing. */
export function recording(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  return encodeSse(pairs.map(([event, data]) => ({ event, data: JSON.stringify(data) })));
}

export function requestInfo(body: JsonObject, stream = true): RequestInfo {
  const model = typeof body.model === 'string' ? body.model : '';
  return { body, model, stream, wantsStreamUsage: false };
}

export function parseData(event: SseEventInit): JsonObject {
  return JSON.parse(event.data) as JsonObject;
}

/** A JSON round trip: drops undefined fields and non-enumerable SDK helpers, as the wire would. */
export function plain(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

export interface SseServer {
  baseURL: string;
  /** JSON bodies of the requests the server received. */
  requests: JsonObject[];
  close(): Promise<void>;
}

/** A local server that answers every POST with `body` as `text/event-stream`. */
export async function serveSse(body: string, basePath = ''): Promise<SseServer> {
  const requests: JsonObject[] = [];
  const server = createServer((req, res) => {
    readBody(req).then((text) => {
      requests.push(JSON.parse(text) as JsonObject);
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}${basePath}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// ---- Anthropic Messages recordings, in the API's exact framing ----

export const ANTHROPIC_MESSAGE_START = {
  type: 'message_start',
  message: {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: 25,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 1,
      service_tier: 'standard',
    },
  },
};

const anthropicTextDelta = (index: number, text: string) =>
  [
    'content_block_delta',
    { type: 'content_block_delta', index, delta: { type: 'text_delta', text } },
  ] as const;
const anthropicJsonDelta = (index: number, partial_json: string) =>
  [
    'content_block_delta',
    { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } },
  ] as const;
const anthropicBlockStop = (index: number) =>
  ['content_block_stop', { type: 'content_block_stop', index }] as const;
const ANTHROPIC_MESSAGE_STOP = ['message_stop', { type: 'message_stop' }] as const;
const ANTHROPIC_PING = ['ping', { type: 'ping' }] as const;

/** The docs' text example, with the usage fields the API sends today. */
export const ANTHROPIC_TEXT_PAIRS = [
  ['message_start', ANTHROPIC_MESSAGE_START],
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  ANTHROPIC_PING,
  anthropicTextDelta(0, 'Hello'),
  anthropicTextDelta(0, '! How can I'),
  anthropicTextDelta(0, ' help you today?'),
  anthropicBlockStop(0),
  [
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 25,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 12,
      },
    },
  ],
  ANTHROPIC_MESSAGE_STOP,
] as const;
export const ANTHROPIC_TEXT_STREAM = recording(ANTHROPIC_TEXT_PAIRS);

export const ANTHROPIC_TOOL_STREAM = recording([
  ['message_start', ANTHROPIC_MESSAGE_START],
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  anthropicTextDelta(0, "I'll check the weather."),
  anthropicBlockStop(0),
  [
    'content_block_start',
    {
      type: 'content_block_start',
      index: 1,
      content_block: {
        type: 'tool_use',
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        input: {},
      },
    },
  ],
  anthropicJsonDelta(1, ''),
  anthropicJsonDelta(1, '{"location": "San Fra'),
  anthropicJsonDelta(1, 'ncisco, CA", "un'),
  anthropicJsonDelta(1, 'it": "fahrenheit"}'),
  anthropicBlockStop(1),
  [
    'content_block_start',
    {
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_02', name: 'get_time', input: {} },
    },
  ],
  anthropicJsonDelta(2, ''),
  anthropicBlockStop(2),
  [
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 89 },
    },
  ],
  ANTHROPIC_MESSAGE_STOP,
]);

export const ANTHROPIC_THINKING_STREAM = recording([
  ['message_start', ANTHROPIC_MESSAGE_START],
  [
    'content_block_start',
    {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking: 'GCD of 1071 and 462:' },
    },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking: ' 1071 = 2*462 + 147' },
    },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9G' },
    },
  ],
  anthropicBlockStop(0),
  [
    'content_block_start',
    { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  ],
  anthropicTextDelta(1, 'The GCD is 21.'),
  anthropicBlockStop(1),
  [
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 40 },
    },
  ],
  ANTHROPIC_MESSAGE_STOP,
]);

// ---- OpenAI Responses recordings, in the API's exact framing ----

/** The response object as the API sends it in response.created, before any output. */
export const RESPONSE_IN_PROGRESS = {
  id: 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654',
  object: 'response',
  created_at: 1741290958,
  status: 'in_progress',
  background: false,
  completed_at: null,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: 'gpt-4.1-2025-04-14',
  output: [],
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  store: true,
  temperature: 1.0,
  text: { format: { type: 'text' }, verbosity: 'medium' },
  tool_choice: 'auto',
  tools: [],
  top_p: 1.0,
  truncation: 'disabled',
  usage: null,
  user: null,
  metadata: {},
};

const RESPONSE_MSG_ID = 'msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654';
export const RESPONSE_TEXT = 'Hi there! How can I assist you today?';
const RESPONSE_TEXT_PART = { type: 'output_text', text: RESPONSE_TEXT, annotations: [], logprobs: [] };
export const RESPONSE_TEXT_ITEM = {
  id: RESPONSE_MSG_ID,
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [RESPONSE_TEXT_PART],
};
const RESPONSE_USAGE = {
  input_tokens: 37,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 11,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 48,
};
export const RESPONSE_TEXT_COMPLETED = {
  ...RESPONSE_IN_PROGRESS,
  status: 'completed',
  completed_at: 1741290959,
  output: [RESPONSE_TEXT_ITEM],
  usage: RESPONSE_USAGE,
};

/** `[type, fields]` pairs as a recorded stream, numberedRecording the way the API numbers them. */
export function numberedRecording(pairs: ReadonlyArray<readonly [string, object]>): string {
  return recording(
    pairs.map(([type, fields], sequence_number) => [type, { type, sequence_number, ...fields }]),
  );
}

export const RESPONSE_TEXT_AT = { item_id: RESPONSE_MSG_ID, output_index: 0, content_index: 0 };
export const RESPONSE_TEXT_PAIRS: Array<readonly [string, object]> = [
  ['response.created', { response: RESPONSE_IN_PROGRESS }],
  ['response.in_progress', { response: RESPONSE_IN_PROGRESS }],
  [
    'response.output_item.added',
    { output_index: 0, item: { ...RESPONSE_TEXT_ITEM, status: 'in_progress', content: [] } },
  ],
  ['response.content_part.added', { ...RESPONSE_TEXT_AT, part: { ...RESPONSE_TEXT_PART, text: '' } }],
  ...['Hi', ' there', '!', ' How can I', ' assist you today?'].map(
    (delta) => ['response.output_text.delta', { ...RESPONSE_TEXT_AT, delta, logprobs: [] }] as const,
  ),
  ['response.output_text.done', { ...RESPONSE_TEXT_AT, text: RESPONSE_TEXT, logprobs: [] }],
  ['response.content_part.done', { ...RESPONSE_TEXT_AT, part: RESPONSE_TEXT_PART }],
  ['response.output_item.done', { output_index: 0, item: RESPONSE_TEXT_ITEM }],
  ['response.completed', { response: RESPONSE_TEXT_COMPLETED }],
];
export const RESPONSE_TEXT_STREAM = numberedRecording(RESPONSE_TEXT_PAIRS);

const RESPONSE_RS_ID = 'rs_6876cf02e0bc8192b74af0fb64b715ff06fa2fcced15a5ac';
const RESPONSE_FC_ID = 'fc_6876cf054f58819fb4f9b2bdc1a7f3b306fa2fcced15a5ac';
const RESPONSE_SUMMARY = '**Checking the weather** The user wants Paris weather.';
export const RESPONSE_REASONING_ITEM = {
  id: RESPONSE_RS_ID,
  type: 'reasoning',
  summary: [{ type: 'summary_text', text: RESPONSE_SUMMARY }],
  encrypted_content: 'gAAAAABodc8F',
};
const RESPONSE_ARGS = '{"location":"Paris, France","unit":"celsius"}';
export const RESPONSE_CALL_ITEM = {
  id: RESPONSE_FC_ID,
  type: 'function_call',
  status: 'completed',
  arguments: RESPONSE_ARGS,
  call_id: 'call_a8vSfaSeXq1k9RqUT4O6OOaY',
  name: 'get_weather',
};
export const RESPONSE_TOOL_COMPLETED = {
  ...RESPONSE_IN_PROGRESS,
  model: 'o4-mini-2025-04-16',
  reasoning: { effort: 'medium', summary: 'auto' },
  tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: true }],
  status: 'completed',
  completed_at: 1741290962,
  output: [RESPONSE_REASONING_ITEM, RESPONSE_CALL_ITEM],
  usage: {
    ...RESPONSE_USAGE,
    output_tokens: 80,
    output_tokens_details: { reasoning_tokens: 64 },
    total_tokens: 117,
  },
};
const responseRs = { item_id: RESPONSE_RS_ID, output_index: 0, summary_index: 0 };
const responseFc = { item_id: RESPONSE_FC_ID, output_index: 1 };
export const RESPONSE_TOOL_STREAM = numberedRecording([
  [
    'response.created',
    { response: { ...RESPONSE_TOOL_COMPLETED, status: 'in_progress', output: [], usage: null } },
  ],
  [
    'response.in_progress',
    { response: { ...RESPONSE_TOOL_COMPLETED, status: 'in_progress', output: [], usage: null } },
  ],
  ['response.output_item.added', { output_index: 0, item: { ...RESPONSE_REASONING_ITEM, summary: [] } }],
  ['response.reasoning_summary_part.added', { ...responseRs, part: { type: 'summary_text', text: '' } }],
  ['response.reasoning_summary_text.delta', { ...responseRs, delta: '**Checking the weather**' }],
  ['response.reasoning_summary_text.delta', { ...responseRs, delta: ' The user wants Paris weather.' }],
  ['response.reasoning_summary_text.done', { ...responseRs, text: RESPONSE_SUMMARY }],
  [
    'response.reasoning_summary_part.done',
    { ...responseRs, part: { type: 'summary_text', text: RESPONSE_SUMMARY } },
  ],
  ['response.output_item.done', { output_index: 0, item: RESPONSE_REASONING_ITEM }],
  [
    'response.output_item.added',
    { output_index: 1, item: { ...RESPONSE_CALL_ITEM, status: 'in_progress', arguments: '' } },
  ],
  ['response.function_call_arguments.delta', { ...responseFc, delta: '{"location":' }],
  ['response.function_call_arguments.delta', { ...responseFc, delta: '"Paris, France",' }],
  ['response.function_call_arguments.delta', { ...responseFc, delta: '"unit":"celsius"}' }],
  ['response.function_call_arguments.done', { ...responseFc, arguments: RESPONSE_ARGS }],
  ['response.output_item.done', { output_index: 1, item: RESPONSE_CALL_ITEM }],
  ['response.completed', { response: RESPONSE_TOOL_COMPLETED }],
]);
