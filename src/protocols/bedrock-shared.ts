import { isJsonObject } from './anthropic-shared.js';
import { withoutExcludedFields } from './key-exclusions.js';
import type { JsonObject, Protocol, RequestCheck, RouteParams } from './types.js';

/**
 * Pieces of Bedrock Runtime's REST protocol shared by the Converse and InvokeModel routes:
 * the route template, answer-changing headers, and the error shape.
 */

/** Every Bedrock route lives under this prefix; an unknown operation below it gets a Bedrock error. */
export const BEDROCK_ROUTE_PREFIX = '/model/';

export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream';

/** `/model/{modelId}/{operation}`, the model id one percent-encoded segment (ARNs encode their '/'). */
export function matchBedrockRoute(
  rawPath: string,
  operation: BedrockOperation,
): Omit<RouteParams, 'headers'> | undefined {
  if (!rawPath.startsWith(BEDROCK_ROUTE_PREFIX) || !rawPath.endsWith(`/${operation}`)) return undefined;
  const segment = rawPath.slice(BEDROCK_ROUTE_PREFIX.length, rawPath.length - operation.length - 1);
  if (segment === '' || segment.includes('/')) return undefined;
  let modelId: string;
  try {
    modelId = decodeURIComponent(segment);
  } catch {
    // A malformed escape still names this route; validate() reports it with the route's error shape.
    modelId = '';
  }
  return { modelId, rawPath };
}

/**
 * What every Bedrock route is, whatever its operation: a templated `/model/{modelId}/...` path,
 * event-stream framing for synthesized streams, always cacheable, and keyed on the body minus
 * the exclusions listed for the protocol plus the route key its validate() put on the request
 * (the path's model id, and for InvokeModel the stream flag and answer-changing headers).
 */
export function bedrockRoute(
  name: 'bedrock.converse' | 'bedrock.invoke',
  operation: BedrockOperation,
): Pick<Protocol, 'name' | 'family' | 'path' | 'streamFraming' | 'matchPath' | 'cacheability' | 'keyMaterial'> {
  return {
    name,
    family: 'bedrock',
    path: `/model/{modelId}/${operation}`,
    streamFraming: 'eventstream',
    matchPath: (rawPath) => matchBedrockRoute(rawPath, operation),
    cacheability: () => ({ cacheable: true }),
    keyMaterial: (request) => ({ ...withoutExcludedFields(name, request.body), ...request.routeKey }),
  };
}

/**
 * Headers that change what InvokeModel answers (guardrails, trace, latency tier, the formats the
 * body is in and asked for). Converse carries all of this in its body.
 */
const INVOKE_ANSWER_HEADERS = [
  'content-type',
  'accept',
  'x-amzn-bedrock-accept',
  'x-amzn-bedrock-trace',
  'x-amzn-bedrock-guardrailidentifier',
  'x-amzn-bedrock-guardrailversion',
  'x-amzn-bedrock-performanceconfig-latency',
  'x-amzn-bedrock-service-tier',
];

export function answerHeaders(route: RouteParams, names = INVOKE_ANSWER_HEADERS): JsonObject {
  const out: JsonObject = {};
  for (const name of names) {
    const value = route.headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The common checks of a Bedrock request: a route with a model id and a JSON object body. */
export function checkBedrockRequest(
  body: unknown,
  route: RouteParams | undefined,
): { ok: true; body: JsonObject; route: RouteParams } | Extract<RequestCheck, { ok: false }> {
  if (!route)
    return { ok: false, status: 400, message: 'Bedrock requests need a /model/{modelId}/... route.' };
  if (route.modelId === '') {
    return {
      ok: false,
      status: 400,
      message: 'The model id in the path is not a valid percent-encoded string.',
      param: 'modelId',
    };
  }
  if (!isJsonObject(body))
    return { ok: false, status: 400, message: 'The request body must be a JSON object.' };
  return { ok: true, body, route };
}

/**
 * The accepted request of a Bedrock route: the model is the path's model id (the body names
 * none), usage is never asked for, and `routeKey` carries the key material from outside the body.
 */
export function bedrockRequest(
  check: { body: JsonObject; route: RouteParams },
  stream: boolean,
  routeKey: JsonObject,
): RequestCheck {
  return {
    ok: true,
    request: { body: check.body, model: check.route.modelId, stream, wantsStreamUsage: false, routeKey },
  };
}

/** The AWS exception name (x-amzn-ErrorType) for an error Sluice raises on a Bedrock route. */
const EXCEPTION_BY_CODE: Record<string, string> = {
  not_found: 'UnknownOperationException',
  invalid_signature: 'InvalidSignatureException',
  unrecognized_client: 'UnrecognizedClientException',
  missing_authentication: 'MissingAuthenticationTokenException',
  signature_expired: 'InvalidSignatureException',
  no_upstream_credentials: 'AccessDeniedException',
};

const EXCEPTION_BY_STATUS: Record<number, string> = {
  400: 'ValidationException',
  401: 'AccessDeniedException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  405: 'ValidationException',
  413: 'ValidationException',
  415: 'ValidationException',
  429: 'ThrottlingException',
  502: 'ServiceUnavailableException',
  503: 'ServiceUnavailableException',
  504: 'ModelTimeoutException',
};

export function bedrockExceptionName(status: number, code: string): string {
  return EXCEPTION_BY_CODE[code] ?? EXCEPTION_BY_STATUS[status] ?? 'InternalServerException';
}

/** Bedrock's error body: `{"message": ...}`; the exception name travels in x-amzn-ErrorType. */
export function bedrockErrorBody(message: string): JsonObject {
  return { message };
}
