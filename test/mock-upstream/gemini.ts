import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answerTokens,
  asksForTool,
  endlessToken,
  estimateTokens,
  idFrom,
  isRecord,
  type JsonRecord,
  requestHash,
  toolArguments,
} from './answer.js';
import type { ClientWatch } from './client-watch.js';
import type { Knobs } from './knobs.js';
import { deltaEvent, type SseEvent, type StreamPlan, sse, tailEvent } from './protocol.js';
import { writeStream } from './sse-writer.js';

/**
 * Google's Gemini API, shaped like generativelanguage.googleapis.com:
 *   POST /{v1beta|v1alpha|v1}/{models|tunedModels}/{id}:generateContent
 *   POST ...:streamGenerateContent?alt=sse   SSE, `data: {GenerateContentResponse}` + CRLF CRLF,
 *        no [DONE]; the last event has finishReason in every candidate and usageMetadata
 *   POST ...:streamGenerateContent           a JSON array of responses, written element by element
 *   POST ...:countTokens | :embedContent | :batchEmbedContents
 *   GET  /v1beta/models                      a model list
 * Keys come as `x-goog-api-key` or `?key=` (a request without one gets 403, as Google answers).
 * Errors: `{"error":{"code","message","status"}}`.
 *
 * Knobs (request headers, see knobs.ts): x-mock-words, x-mock-delay-ms, x-mock-split, x-mock-cr
 * (lone CR line ends; CRLF otherwise, as Google sends), x-mock-truncate, x-mock-reset,
 * x-mock-status, x-mock-error-event (an `{"error":...}` event halfway, then the end),
 * x-mock-tool-call (a functionCall part when the request has tools), x-mock-unique,
 * x-mock-endless, and two of its own:
 *   x-mock-gemini-finish: REASON   the last event's finishReason (SAFETY, RECITATION, BLOCKLIST,
 *                                  PROHIBITED_CONTENT, MALFORMED_FUNCTION_CALL...) with the
 *                                  safety ratings Google sends with it
 *   x-mock-gemini-block: REASON    the prompt is blocked: one response with promptFeedback.blockReason
 *                                  and no candidates (status 200, as Google answers)
 * A request's generationConfig.maxOutputTokens caps the answer at that many words (finishReason MAX_TOKENS).
 * generationConfig.candidateCount N gives N candidates, candidate i one word shorter than
 * candidate i-1, streamed side by side: each response holds the next piece of every candidate
 * still going, a candidate's last piece carries its finishReason (so the later candidates finish
 * first, and the last responses hold candidate 0 only). x-mock-gemini-unfinished: I leaves
 * candidate I without a finishReason.
 * `?alt=proto` answers in binary (`application/x-protobuf`, the answer as one length-delimited
 * field: bytes that are not JSON, as Google's protobuf answers are not); an `alt` other than
 * json, sse or proto is a 400, as Google answers.
 */

const ROUTE = /^\/(v1|v1beta|v1alpha)\/((?:models|tunedModels)\/[^/:]+):([A-Za-z]+)$/;
const MODEL_VERSION_SUFFIX = '-001';

export function isGeminiPath(path: string): boolean {
  return ROUTE.test(path) || /^\/(v1beta|v1alpha)\/models\/?$/.test(path);
}

export interface GeminiHooks {
  eventsWritten(count: number): void;
  willReset(): void;
}

export async function handleGemini(
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
  knobs: Knobs,
  requestNumber: number,
  watch: ClientWatch,
  hooks: GeminiHooks,
): Promise<void> {
  const [path = '/', search = ''] = (req.url ?? '/').split('?', 2);
  const query = new URLSearchParams(search);
  const fail = (status: number, message: string, name: string) => {
    const text = JSON.stringify({ error: { code: status, message: `${message} (mock)`, status: name } });
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const key = req.headers['x-goog-api-key'] ?? query.get('key');
  if (!key) return fail(403, 'Method doesn\'t allow unregistered callers. Please use an API Key.', 'PERMISSION_DENIED');
  if (knobs.status !== undefined && knobs.status >= 300) {
    return fail(knobs.status, `mock status ${knobs.status}`, knobs.status === 429 ? 'RESOURCE_EXHAUSTED' : 'INTERNAL');
  }
  const alt = query.get('alt') ?? 'json';
  if (alt !== 'json' && alt !== 'sse' && alt !== 'proto') {
    return fail(400, `Invalid value at 'alt' (type.googleapis.com/google.api.SystemParameter), "${alt}"`, 'INVALID_ARGUMENT');
  }
  const sendJson = alt === 'proto' ? sendProto : sendJsonBody;
  if (req.method === 'GET') {
    return sendJson(res, { models: [{ name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' }] });
  }
  const match = ROUTE.exec(path);
  if (!match) return fail(404, `Unknown path ${path}`, 'NOT_FOUND');
  const model = match[2] as string;
  const operation = match[3] as string;
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return fail(400, 'Invalid JSON payload received.', 'INVALID_ARGUMENT');
  }
  if (!isRecord(body)) return fail(400, 'Invalid JSON payload received: expected an object.', 'INVALID_ARGUMENT');
  // The answer depends on the model and the body (the operation's two stream forms answer alike).
  const hash = requestHash({ model, body }, knobs.unique ? `#${requestNumber}` : '');

  switch (operation) {
    case 'countTokens':
      return sendJson(res, { totalTokens: estimateTokens(body.contents ?? body.generateContentRequest) });
    case 'embedContent':
      return sendJson(res, { embedding: { values: embedding(hash, body.content) } });
    case 'batchEmbedContents': {
      const requests = Array.isArray(body.requests) ? body.requests : [];
      return sendJson(res, {
        embeddings: requests.map((r, i) => ({ values: embedding(`${hash}${i}`, isRecord(r) ? r.content : r) })),
      });
    }
    case 'generateContent':
    case 'streamGenerateContent':
      break;
    default:
      return fail(404, `Unknown operation ${operation}`, 'NOT_FOUND');
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return fail(400, '* GenerateContentRequest.contents: contents is not specified', 'INVALID_ARGUMENT');
  }
  const responses = answerResponses(body, knobs, hash, model);
  if (operation === 'generateContent') {
    if (knobs.delayMs > 0 && !(await watch.sleep(knobs.delayMs * responses.length))) return;
    return sendJson(res, merge(responses));
  }
  if (alt === 'proto') return sendProto(res, merge(responses));
  const newline = knobs.lineEnding === '\r' ? '\r' : '\r\n';
  if (alt === 'sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const plan = streamPlan(responses, model);
    return writeStream(res, plan, { ...knobs, lineEnding: newline }, hooks, watch);
  }
  return writeArray(res, responses, knobs, watch, hooks);
}

function sendJsonBody(res: ServerResponse, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * `alt=proto`: field 1, length-delimited (tag 0x0a, varint length), holding `proto:` and the
 * answer's JSON (a stand-in for the real encoding: a test can read it back, no JSON parser can).
 */
function sendProto(res: ServerResponse, value: unknown): void {
  const payload = Buffer.from(`proto:${JSON.stringify(value)}`);
  const length: number[] = [];
  for (let n = payload.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  const body = Buffer.concat([Buffer.from([0x0a, ...length]), payload]);
  res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length });
  res.end(body);
}

function embedding(hash: string, content: unknown): number[] {
  const seed = Number.parseInt(hash.slice(0, 8), 16) + estimateTokens(content);
  return Array.from({ length: 8 }, (_, i) => Math.round(Math.sin(seed + i) * 1e6) / 1e6);
}

const SAFE_RATINGS = [
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

/** The answer as the list of stream responses: one per word, the last with finishReason and usage. */
function answerResponses(body: JsonRecord, knobs: Knobs, hash: string, model: string): JsonRecord[] {
  const modelVersion = `${model.replace(/^models\//, '')}${model.endsWith(MODEL_VERSION_SUFFIX) ? '' : MODEL_VERSION_SUFFIX}`;
  const responseId = idFrom(hash, 22);
  const top = { modelVersion, responseId };
  const promptTokens = estimateTokens(body.contents);
  if (knobs.geminiBlock) {
    return [
      {
        promptFeedback: {
          blockReason: knobs.geminiBlock,
          safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }],
        },
        usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
        ...top,
      },
    ];
  }
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const limit = typeof config.maxOutputTokens === 'number' ? config.maxOutputTokens : undefined;
  const count = typeof config.candidateCount === 'number' ? Math.min(Math.max(Math.trunc(config.candidateCount), 1), 8) : 1;
  const candidates = Array.from({ length: count }, (_, index) => candidateParts(body, knobs, hash, index, limit));
  const length = Math.max(...candidates.map((c) => c.parts.length));
  const responses: JsonRecord[] = [];
  for (let k = 0; k < length; k++) {
    const pieces: JsonRecord[] = [];
    for (const [index, candidate] of candidates.entries()) {
      const part = candidate.parts[k];
      if (part === undefined) continue;
      const piece: JsonRecord = { content: { parts: [part], role: 'model' }, index };
      if (k === candidate.parts.length - 1 && knobs.geminiUnfinished !== index) {
        // The finish reason knob is candidate 0's (the one that ends the stream).
        const finishReason = index === 0 && knobs.geminiFinish ? knobs.geminiFinish : candidate.capped ? 'MAX_TOKENS' : 'STOP';
        piece.finishReason = finishReason;
        piece.safetyRatings =
          finishReason === 'SAFETY'
            ? [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }]
            : SAFE_RATINGS;
      }
      pieces.push(piece);
    }
    responses.push({ candidates: pieces, ...top });
  }
  const last = responses[responses.length - 1] as JsonRecord;
  const outputTokens = candidates.reduce((sum, c) => sum + c.outputTokens, 0);
  last.usageMetadata = {
    promptTokenCount: promptTokens,
    candidatesTokenCount: outputTokens,
    totalTokenCount: promptTokens + outputTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
  // usageMetadata comes before modelVersion in Google's answers.
  const { modelVersion: v, responseId: r, ...rest } = last;
  Object.assign(last, { ...rest, modelVersion: v, responseId: r });
  return responses;
}

/** One candidate's parts (word pieces, then a function call when asked), one word shorter per index. */
function candidateParts(
  body: JsonRecord,
  knobs: Knobs,
  hash: string,
  index: number,
  limit: number | undefined,
): { parts: JsonRecord[]; capped: boolean; outputTokens: number } {
  let tokens = answerTokens(hash, index, Math.max(knobs.words - index, 1));
  const capped = limit !== undefined && tokens.length > limit;
  if (capped) tokens = tokens.slice(0, limit);
  const tool = knobs.toolCall && !capped ? firstTool(body) : undefined;
  const parts: JsonRecord[] = tokens.map((text) => ({ text }));
  if (tool) parts.push({ functionCall: { name: tool.name, args: toolArguments(tool.parameters, hash) } });
  if (parts.length === 0) parts.push({ text: '' });
  return { parts, capped, outputTokens: tokens.length + (tool ? 5 : 0) };
}

function firstTool(body: JsonRecord): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const contents = Array.isArray(body.contents) ? body.contents : [];
  for (const tool of tools) {
    if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    const first = tool.functionDeclarations[0];
    if (isRecord(first) && typeof first.name === 'string') return { name: first.name, parameters: first.parameters };
  }
  return asksForTool(contents) ? { name: 'lookup', parameters: {} } : undefined;
}

/** The non-stream answer: the stream's responses joined, per candidate (text pieces into one part). */
function merge(responses: JsonRecord[]): JsonRecord {
  const last = responses[responses.length - 1] as JsonRecord;
  if (!Array.isArray(last.candidates)) return last;
  const merged = new Map<number, JsonRecord>();
  for (const response of responses) {
    for (const piece of response.candidates as JsonRecord[]) {
      const index = piece.index as number;
      const part = ((piece.content as JsonRecord).parts as JsonRecord[])[0] as JsonRecord;
      const { content: _content, ...fields } = piece;
      const candidate = merged.get(index) ?? { content: { parts: [] as JsonRecord[], role: 'model' } };
      const parts = (candidate.content as JsonRecord).parts as JsonRecord[];
      const previous = parts[parts.length - 1];
      if (typeof part.text === 'string' && previous !== undefined && typeof previous.text === 'string') {
        previous.text += part.text;
      } else {
        parts.push({ ...part });
      }
      merged.set(index, { ...candidate, ...fields });
    }
  }
  return { ...last, candidates: [...merged.values()] };
}

function streamPlan(responses: JsonRecord[], model: string): StreamPlan {
  const events: SseEvent[] = responses.map((response, i) =>
    i === responses.length - 1 ? tailEvent(response) : deltaEvent(response),
  );
  return {
    events,
    doneMarker: '"finishReason"',
    errorEvents: () => [sse(errorObject())],
    endless: function* () {
      for (let i = 0; ; i++) {
        yield deltaEvent({ candidates: [{ content: { parts: [{ text: endlessToken(i) }], role: 'model' }, index: 0 }], modelVersion: model });
      }
    },
  };
}

function errorObject(): JsonRecord {
  return { error: { code: 503, message: 'The model is overloaded. Please try again later. (mock)', status: 'UNAVAILABLE' } };
}

/**
 * streamGenerateContent without alt=sse: `[{...}\r\n,{...}\r\n]`, one element per write, paced
 * like the SSE form; truncate ends the body before `]`, reset cuts the socket, the error knob
 * puts an error element halfway.
 */
async function writeArray(
  res: ServerResponse,
  responses: JsonRecord[],
  knobs: Knobs,
  watch: ClientWatch,
  hooks: GeminiHooks,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
  const errorAt = knobs.errorEvent ? Math.floor(responses.length / 2) : undefined;
  const stopAt = knobs.truncateAfter ?? knobs.resetAfter;
  for (const [i, response] of responses.entries()) {
    if (watch.gone) return;
    if (i > 0 && knobs.delayMs > 0 && !(await watch.sleep(knobs.delayMs))) return;
    const lead = i === 0 ? '[' : ',\r\n';
    if (errorAt !== undefined && i >= errorAt) {
      res.end(`${lead}${JSON.stringify(errorObject())}]`);
      return;
    }
    if (stopAt !== undefined && i >= stopAt) {
      if (knobs.truncateAfter === undefined) {
        hooks.willReset();
        res.socket?.destroy();
        res.destroy();
      } else {
        res.end();
      }
      return;
    }
    res.write(`${lead}${JSON.stringify(response)}`, (error) => {
      if (!error) hooks.eventsWritten(1);
    });
  }
  res.end(']');
}
