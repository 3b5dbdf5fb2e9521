import { isJsonObject } from './anthropic-shared.js';
import type { CacheabilityCheck, JsonObject, JsonValue, RequestCheck, RequestInfo, RouteParams, Usage } from './types.js';

/**
 * Pieces of Google's Gemini API (generativelanguage.googleapis.com) shared by its routes: the
 * route template, the error shape, and reading `usageMetadata`.
 */

export type GeminiOperation =
  | 'generateContent'
  | 'streamGenerateContent'
  | 'countTokens'
  | 'embedContent'
  | 'batchEmbedContents';

/**
 * `/{version}/{models|tunedModels}/{id}:{operation}`. The resource name (`models/gemini-2.5-flash`,
 * `tunedModels/my-model-42`, a version suffix such as `-001`) is taken and forwarded exactly as
 * written; the id is one path segment, as the SDKs send it.
 */
const GEMINI_ROUTE = /^\/(v1|v1beta|v1alpha)\/((?:models|tunedModels)\/[^/:]+):([A-Za-z]+)$/;

/** Any path under a Gemini API version with a `:operation` (an unknown operation gets a Gemini 404). */
export const GEMINI_ROUTE_PREFIXES = ['/v1beta/', '/v1alpha/'] as const;

export interface GeminiRouteParams extends Omit<RouteParams, 'headers'> {
  /** The API version of the path (`v1beta`): part of the key, since versions answer differently. */
  version: string;
}

export function matchGeminiRoute(rawPath: string, operation: GeminiOperation): GeminiRouteParams | undefined {
  if (!rawPath.endsWith(`:${operation}`)) return undefined;
  const match = GEMINI_ROUTE.exec(rawPath);
  if (!match || match[3] !== operation) return undefined;
  return { modelId: match[2] as string, rawPath, version: match[1] as string };
}

/** The API version from a path matched by matchGeminiRoute. */
export function geminiVersion(rawPath: string): string {
  return GEMINI_ROUTE.exec(rawPath)?.[1] ?? '';
}

/** The model as the dashboard and the price table know it: `gemini-2.5-flash`, `tunedModels/x`. */
export function displayModel(resource: string): string {
  return resource.startsWith('models/') ? resource.slice('models/'.length) : resource;
}

/**
 * The framing `alt` asks for: `sse` (server-sent events), or `json` (also with no `alt`).
 * `undefined` for anything else (`proto`, `media`, an empty value, several `alt`): a format
 * Sluice does not read, so such a request bypasses the cache (see unreadAlt).
 */
export function altOf(search: string | undefined): 'sse' | 'json' | undefined {
  if (search === undefined || !search.includes('alt')) return 'json';
  const values = new URLSearchParams(search).getAll('alt');
  if (values.length === 0) return 'json';
  const [value] = values;
  return values.length === 1 && (value === 'sse' || value === 'json') ? value : undefined;
}

/**
 * Route key material for an `alt` this operation does not read (`understood` are the ones it
 * does): every `alt` value as sent, so such a request never keys like a JSON one; the protocol's
 * cacheability then bypasses the cache for it (unreadAltReason).
 */
export function unreadAlt(search: string | undefined, understood: ReadonlyArray<'sse' | 'json'>): JsonObject {
  const alt = altOf(search);
  if (alt !== undefined && understood.includes(alt)) return {};
  return { ':alt': new URLSearchParams(search).getAll('alt') };
}

/** Why a request is not cached: its `alt` (unreadAlt) asks for a format Sluice does not read. */
export function unreadAltReason(request: RequestInfo): CacheabilityCheck {
  const alt = request.routeKey?.[':alt'];
  return alt === undefined
    ? { cacheable: true }
    : { cacheable: false, reason: `alt=${JSON.stringify(alt)} asks for a format Sluice does not read` };
}

/** The common checks of a Gemini request: a route and a JSON object body. */
export function checkGeminiRequest(
  body: unknown,
  route: RouteParams | undefined,
): { ok: true; body: JsonObject; route: RouteParams } | Extract<RequestCheck, { ok: false }> {
  if (!route) return invalid('Gemini requests need a /v1beta/models/{model}:{operation} route.');
  if (!isJsonObject(body)) return invalid('The request body must be a JSON object.');
  return { ok: true, body, route };
}

/** Fields that, when present, must be JSON objects or arrays (Gemini answers 400 otherwise). */
export function checkFieldTypes(
  body: JsonObject,
  objects: readonly string[],
  arrays: readonly string[],
): Extract<RequestCheck, { ok: false }> | undefined {
  for (const field of objects) {
    const value = body[field];
    if (value !== undefined && !isJsonObject(value)) return invalid(`\`${field}\` must be an object.`, field);
  }
  for (const field of arrays) {
    const value = body[field];
    if (value !== undefined && !Array.isArray(value)) return invalid(`\`${field}\` must be an array.`, field);
  }
  return undefined;
}

export function invalid(message: string, param?: string): Extract<RequestCheck, { ok: false }> {
  return param === undefined ? { ok: false, status: 400, message } : { ok: false, status: 400, message, param };
}

/** google.rpc.Code names by HTTP status, as the API reports them in `error.status`. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'INVALID_ARGUMENT',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  431: 'INVALID_ARGUMENT',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Gemini's error body: `{"error":{"code","message","status"}}`; the SDKs read all three. */
export function geminiErrorBody(status: number, message: string): JsonObject {
  const name = STATUS_NAMES[status] ?? (status >= 400 && status < 500 ? 'FAILED_PRECONDITION' : 'INTERNAL');
  return { error: { code: status, message, status: name } };
}

/**
 * Sluice's usage summary from `usageMetadata`: prompt tokens in, candidate tokens plus thinking
 * tokens out (Google bills thoughts as output). Undefined when the counts are missing.
 */
export function geminiUsage(value: JsonValue | undefined): Usage | undefined {
  if (!isJsonObject(value)) return undefined;
  const { promptTokenCount, candidatesTokenCount, thoughtsTokenCount, toolUsePromptTokenCount } = value;
  if (typeof promptTokenCount !== 'number') return undefined;
  const output = (typeof candidatesTokenCount === 'number' ? candidatesTokenCount : 0) +
    (typeof thoughtsTokenCount === 'number' ? thoughtsTokenCount : 0);
  const toolPrompt = typeof toolUsePromptTokenCount === 'number' ? toolUsePromptTokenCount : 0;
  return { inputTokens: promptTokenCount + toolPrompt, outputTokens: output };
}
