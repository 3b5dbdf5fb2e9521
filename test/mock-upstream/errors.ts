import type { ErrorShape } from './protocol.js';

/** Error bodies exactly as each provider writes them, so SDK error classes and gateway pass-through see the real thing. */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

export function openaiErrorBody(
  status: number,
  message?: string,
  param: string | null = null,
): OpenAIErrorBody {
  const { type, code, text } = openaiKind(status);
  return { error: { message: message ?? text, type, param, code } };
}

export function anthropicErrorBody(status: number, requestId: string, message?: string): AnthropicErrorBody {
  const { type, text } = anthropicKind(status);
  return { type: 'error', error: { type, message: message ?? text }, request_id: requestId };
}

export function errorBody(
  shape: ErrorShape,
  status: number,
  requestId: string,
  message?: string,
  param: string | null = null,
): OpenAIErrorBody | AnthropicErrorBody {
  return shape === 'anthropic'
    ? anthropicErrorBody(status, requestId, message)
    : openaiErrorBody(status, message, param);
}

function openaiKind(status: number): { type: string; code: string | null; text: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null, text: 'Invalid request (mock).' };
    case 401:
      return {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        text: 'Incorrect API key provided (mock).',
      };
    case 403:
      return {
        type: 'invalid_request_error',
        code: 'unsupported_country_region_territory',
        text: 'Forbidden (mock).',
      };
    case 404:
      return {
        type: 'invalid_request_error',
        code: 'model_not_found',
        text: 'The model does not exist (mock).',
      };
    case 429:
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        text: 'Rate limit reached for requests (mock).',
      };
    case 503:
      return {
        type: 'server_error',
        code: 'service_unavailable',
        text: 'The engine is currently overloaded (mock).',
      };
    default:
      return status >= 500
        ? {
            type: 'server_error',
            code: null,
            text: 'The server had an error while processing your request (mock).',
          }
        : { type: 'invalid_request_error', code: null, text: `Request failed with status ${status} (mock).` };
  }
}

function anthropicKind(status: number): { type: string; text: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', text: 'Invalid request (mock).' };
    case 401:
      return { type: 'authentication_error', text: 'invalid x-api-key (mock)' };
    case 403:
      return { type: 'permission_error', text: 'Your API key does not have permission (mock).' };
    case 404:
      return { type: 'not_found_error', text: 'Not found (mock).' };
    case 413:
      return { type: 'request_too_large', text: 'Request exceeds the maximum allowed size (mock).' };
    case 429:
      return { type: 'rate_limit_error', text: 'Number of requests has exceeded your rate limit (mock).' };
    case 504:
      return { type: 'timeout_error', text: 'Request timed out (mock).' };
    case 529:
      return { type: 'overloaded_error', text: 'Overloaded (mock).' };
    default:
      return status >= 500
        ? { type: 'api_error', text: 'Internal server error (mock).' }
        : { type: 'invalid_request_error', text: `Request failed with status ${status} (mock).` };
  }
}
