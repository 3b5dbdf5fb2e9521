import type { SseEvent, SseEventInit } from '../sse/types.js';
import { isJsonObject } from './anthropic-shared.js';
import { chunkWords } from './chunk-text.js';
import { ProtocolError } from './errors.js';
import { inspectGeminiJson, inspectGeminiStream, isFinalResponse, responseOf, throughFinal } from './gemini-gate.js';
import {
  altOf,
  checkFieldTypes,
  checkGeminiRequest,
  displayModel,
  type GeminiOperation,
  geminiVersion,
  invalid,
  matchGeminiRoute,
  unreadAlt,
  unreadAltReason,
} from './gemini-shared.js';
import { withoutExcludedFields } from './key-exclusions.js';
import type { JsonObject, JsonValue, Protocol, RequestCheck, RequestInfo, RouteParams } from './types.js';

/**
 * Google Gemini's native API (`@google/genai`, `@ai-sdk/google`):
 *   POST /v1beta/models/{model}:generateContent          JSON answer
 *   POST /v1beta/models/{model}:streamGenerateContent    `?alt=sse`: server-sent events, each a
 *        whole GenerateContentResponse; without it, a JSON array of them streamed element by element
 *   POST .../{model}:countTokens, :embedContent, :batchEmbedContents    JSON only
 * Model ids (`models/...`, `tunedModels/...`, any version suffix) are forwarded as written.
 *
 * generateContent and streamGenerateContent share one protocol name and one key path, so a stream
 * answers a JSON request and the other way round (`alt=sse` and `alt=json` are framing only, see
 * key-exclusions.ts; any other `alt`, such as `proto`'s binary answers, bypasses the cache). The JSON-array form is keyed apart (`:framing`) and stored as the JSON
 * document it is: it answers only requests in the same form, byte for byte.
 */

/** The request fields Gemini validates as objects / arrays. Everything in the body is key material. */
const OBJECT_FIELDS = ['systemInstruction', 'toolConfig', 'generationConfig'];
const ARRAY_FIELDS = ['contents', 'tools', 'safetySettings'];

function isArrayForm(request: RequestInfo | undefined): boolean {
  return request?.routeKey?.[':framing'] === 'json-array';
}

function routeParams(operation: GeminiOperation) {
  return (rawPath: string): Omit<RouteParams, 'headers'> | undefined => {
    const params = matchGeminiRoute(rawPath, operation);
    return params && { modelId: params.modelId, rawPath: params.rawPath };
  };
}

function generateRoute(operation: 'generateContent' | 'streamGenerateContent'): Protocol {
  // An event in which every candidate present finished: the end of a one-candidate answer. With
  // several candidates, each finishing in its own event, the gate and assemble follow the whole
  // stream instead (gemini-gate.ts FinishTracker).
  const isTerminal = (event: SseEvent) => {
    const data = event.data.includes('"finishReason"') ? responseOf(event) : undefined;
    return data !== undefined && isFinalResponse(data);
  };
  return {
    name: 'gemini.generate',
    family: 'gemini',
    path: `/{version}/{model}:${operation}`,
    keyPath: '/{version}/{model}:generateContent',
    matchPath: routeParams(operation),

    validate(body, route): RequestCheck {
      const check = checkGeminiRequest(body, route);
      if (!check.ok) return check;
      if (!Array.isArray(check.body.contents)) {
        return invalid('`contents` is required and must be an array of {role, parts} objects.', 'contents');
      }
      const typed = checkFieldTypes(check.body, OBJECT_FIELDS, ARRAY_FIELDS);
      if (typed) return typed;
      // `alt` decides the framing: `sse` is a stream; JSON otherwise (a streamed array for
      // streamGenerateContent). Any other `alt` (`proto`...) is keyed apart and bypasses the cache.
      const sse = altOf(check.route.search) === 'sse';
      const arrayForm = operation === 'streamGenerateContent' && !sse;
      const routeKey: JsonObject = {
        ':version': geminiVersion(check.route.rawPath),
        ':model': check.route.modelId,
        ...(arrayForm ? { ':framing': 'json-array' } : {}),
        ...unreadAlt(check.route.search, ['sse', 'json']),
      };
      return {
        ok: true,
        request: { body: check.body, model: displayModel(check.route.modelId), stream: sse, wantsStreamUsage: false, routeKey },
      };
    },

    cacheability: unreadAltReason,
    keyMaterial: (request) => ({ ...withoutExcludedFields('gemini.generate', request.body), ...request.routeKey }),
    isTerminal,
    inspectStream: (events, request) => inspectGeminiStream(events, request),
    inspectJson: (body, request) => inspectGeminiJson(body, request, isArrayForm(request)),
    // Through the event that finished every candidate: with several, each finishes in its own event.
    assemble: (events) => assembleResponse(throughFinal(events, responseOf)),
    synthesize: (answer) => synthesizeStream(answer),
  };
}

export const geminiGenerateProtocol = generateRoute('generateContent');
export const geminiStreamProtocol = generateRoute('streamGenerateContent');

/** JSON-only operations: what makes a 200 body an answer, and what the request must hold. */
const JSON_OPERATIONS = {
  countTokens: { answerField: 'totalTokens', answerType: 'number', requestCheck: undefined },
  embedContent: { answerField: 'embedding', answerType: 'object', requestCheck: 'content' },
  batchEmbedContents: { answerField: 'embeddings', answerType: 'array', requestCheck: 'requests' },
} as const;

function jsonRoute(operation: keyof typeof JSON_OPERATIONS): Protocol {
  const { answerField, answerType, requestCheck } = JSON_OPERATIONS[operation];
  const notStreamable = () => {
    throw new ProtocolError('PROTOCOL_NOT_STREAMABLE', `${operation} has no stream form`);
  };
  return {
    name: 'gemini.json',
    family: 'gemini',
    path: `/{version}/{model}:${operation}`,
    matchPath: routeParams(operation),

    validate(body, route): RequestCheck {
      const check = checkGeminiRequest(body, route);
      if (!check.ok) return check;
      if (requestCheck === 'content' && !isJsonObject(check.body.content)) {
        return invalid('`content` is required and must be a {parts} object.', 'content');
      }
      if (requestCheck === 'requests' && !Array.isArray(check.body.requests)) {
        return invalid('`requests` is required and must be an array of embedContent requests.', 'requests');
      }
      const routeKey: JsonObject = {
        ':version': geminiVersion(check.route.rawPath),
        ':model': check.route.modelId,
        // JSON is these operations' only form: any other `alt` is keyed apart and bypasses the cache.
        ...unreadAlt(check.route.search, ['json']),
      };
      return {
        ok: true,
        request: { body: check.body, model: displayModel(check.route.modelId), stream: false, wantsStreamUsage: false, routeKey },
      };
    },

    cacheability: unreadAltReason,
    keyMaterial: (request) => ({ ...withoutExcludedFields('gemini.json', request.body), ...request.routeKey }),
    isTerminal: () => false,
    inspectStream: () => ({ complete: false, reason: `${operation} answers are JSON, not streams` }),
    inspectJson(body) {
      if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
      if (body.error !== undefined) return { ok: false, reason: 'body is an error object' };
      const value = body[answerField];
      const fits =
        answerType === 'array' ? Array.isArray(value) : answerType === 'object' ? isJsonObject(value) : typeof value === answerType;
      return fits ? { ok: true } : { ok: false, reason: `body has no ${answerField}` };
    },
    assemble: notStreamable,
    synthesize: notStreamable,
  };
}

export const geminiCountTokensProtocol = jsonRoute('countTokens');
export const geminiEmbedProtocol = jsonRoute('embedContent');
export const geminiBatchEmbedProtocol = jsonRoute('batchEmbedContents');

/** Fields of a part that say what kind of text it is; text parts alike in these are one part. */
function textKind(part: JsonObject): string | undefined {
  if (typeof part.text !== 'string') return undefined;
  for (const key of Object.keys(part)) {
    if (key !== 'text' && key !== 'thought' && key !== 'thoughtSignature') return undefined;
  }
  return part.thought === true ? 'thought' : 'text';
}

/**
 * The non-stream answer a stream stands for, as the SDKs read it: per candidate (by `index`),
 * the parts in order with consecutive text pieces of one kind joined; the other candidate fields
 * (finishReason, safetyRatings, citations...) and the top-level ones (usageMetadata,
 * modelVersion, responseId, promptFeedback) as last sent. Usage only when the stream had it.
 */
function assembleResponse(events: readonly SseEvent[]): JsonObject {
  const answer: JsonObject = {};
  const candidates = new Map<number, { fields: JsonObject; role: JsonValue | undefined; parts: JsonObject[] }>();
  let any = false;
  for (const event of events) {
    const data = responseOf(event);
    if (data === undefined) continue;
    any = true;
    const { candidates: list, ...rest } = data;
    Object.assign(answer, rest);
    if (!Array.isArray(list)) continue;
    for (const [position, candidate] of list.entries()) {
      if (!isJsonObject(candidate)) continue;
      const index = typeof candidate.index === 'number' ? candidate.index : position;
      const slot = candidates.get(index) ?? { fields: {}, role: undefined, parts: [] };
      candidates.set(index, slot);
      const { content, ...fields } = candidate;
      Object.assign(slot.fields, fields);
      if (!isJsonObject(content)) continue;
      if (content.role !== undefined) slot.role = content.role;
      if (Array.isArray(content.parts)) for (const part of content.parts) if (isJsonObject(part)) appendPart(slot.parts, part);
    }
  }
  if (!any) throw new ProtocolError('PROTOCOL_MALFORMED_STREAM', 'the stream has no response');
  const merged = [...candidates.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, slot]) => ({
      content: { parts: slot.parts, ...(slot.role === undefined ? {} : { role: slot.role }) },
      ...slot.fields,
    }));
  return { candidates: merged, ...answer };
}

function appendPart(parts: JsonObject[], part: JsonObject): void {
  const last = parts[parts.length - 1];
  const kind = textKind(part);
  if (last !== undefined && kind !== undefined && textKind(last) === kind) {
    last.text = String(last.text) + String(part.text);
    if (part.thoughtSignature !== undefined) last.thoughtSignature = part.thoughtSignature;
    return;
  }
  parts.push({ ...part });
}

/** Parts split into stream pieces: text in word-sized pieces (a signature on the last), the rest whole. */
function pieces(parts: JsonValue[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const part of parts) {
    if (!isJsonObject(part)) continue;
    if (textKind(part) === undefined || part.text === '') {
      out.push(part);
      continue;
    }
    const { thoughtSignature, ...textPart } = part;
    const words = chunkWords(String(part.text));
    for (const [i, text] of words.entries()) {
      const piece: JsonObject = { ...textPart, text };
      if (i === words.length - 1 && thoughtSignature !== undefined) piece.thoughtSignature = thoughtSignature;
      out.push(piece);
    }
  }
  return out;
}

/**
 * A stream shaped like Gemini's: content pieces one candidate per event, then one final event
 * holding every candidate's last piece and its finish fields, with usageMetadata when the
 * answer had it. The SDKs read it back into `answer`.
 */
function synthesizeStream(answer: JsonObject): SseEventInit[] {
  const { candidates, usageMetadata, promptFeedback, ...top } = answer;
  const list = Array.isArray(candidates) ? candidates : [];
  const events: SseEventInit[] = [];
  const emit = (data: JsonObject) => events.push({ data: JSON.stringify(data) });
  const finals: JsonObject[] = [];
  let first = true;
  const withTop = (data: JsonObject): JsonObject => {
    const out: JsonObject = { ...data, ...top };
    if (first && promptFeedback !== undefined) out.promptFeedback = promptFeedback;
    first = false;
    return out;
  };
  for (const [position, candidate] of list.entries()) {
    if (!isJsonObject(candidate)) continue;
    const { content, ...fields } = candidate;
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    const body = isJsonObject(content) ? content : {};
    const role = body.role ?? 'model';
    const parts = pieces(Array.isArray(body.parts) ? body.parts : []);
    const last = parts.pop();
    for (const part of parts) emit(withTop({ candidates: [{ content: { parts: [part], role }, index }] }));
    finals.push({
      content: last === undefined ? { ...body } : { parts: [last], role },
      ...fields,
      index,
    });
  }
  if (finals.length === 0) {
    throw new ProtocolError('PROTOCOL_MALFORMED_ANSWER', 'the answer has no candidates to stream');
  }
  const final: JsonObject = withTop({ candidates: finals });
  if (usageMetadata !== undefined) final.usageMetadata = usageMetadata;
  emit(final);
  return events;
}
