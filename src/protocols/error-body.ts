import { anthropicErrorBody } from './anthropic-shared.js';
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
};

/** The error body a client of this protocol family expects. */
export function errorBody(
  family: ProtocolFamily,
  status: number,
  message: string,
  code: string,
  param?: string,
) {
  if (family === 'anthropic') return anthropicErrorBody(message, ANTHROPIC_TYPES[status] ?? 'api_error');
  return openaiErrorBody(message, OPENAI_TYPES[status] ?? 'server_error', code, param ?? null);
}
