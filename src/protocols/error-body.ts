import { anthropicErrorBody } from './anthropic-shared.js';
import { bedrockErrorBody, bedrockExceptionName } from './bedrock-shared.js';
import { geminiErrorBody } from './gemini-shared.js';
import { openaiErrorBody } from './openai-shared.js';
import type { ProtocolFamily } from './types.js';

/** Error `type` per status, as each provider names them, for errors Sluice raises itself. */
const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
};

/** The error body a client of this protocol family expects. */
export function errorBody(
  family: ProtocolFamily,
  status: number,
  message: string,
  code: string,
  param?: string,
) {
  if (family === 'bedrock') return bedrockErrorBody(message);
  if (family === 'gemini') return geminiErrorBody(status, message);
  // Any other 4xx is still the client's to fix (405, 408, 431...): typed as a client error.
  const clientError = status >= 400 && status < 500;
  if (family === 'anthropic') {
    const type = ANTHROPIC_TYPES[status] ?? (clientError ? 'invalid_request_error' : 'api_error');
    return anthropicErrorBody(message, type);
  }
  const type = OPENAI_TYPES[status] ?? (clientError ? 'invalid_request_error' : 'server_error');
  return openaiErrorBody(message, type, code, param ?? null);
}

/** Headers that go with the error body: Bedrock names the exception in x-amzn-ErrorType (the SDK reads it). */
export function errorHeaders(family: ProtocolFamily, status: number, code: string): Record<string, string> {
  return family === 'bedrock' ? { 'x-amzn-errortype': bedrockExceptionName(status, code) } : {};
}
