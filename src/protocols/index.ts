import { SluiceError } from '../errors.js';
import { anthropicMessagesProtocol } from './anthropic-messages.js';
import { bedrockConverseProtocol, bedrockConverseStreamProtocol } from './bedrock-converse.js';
import { bedrockInvokeProtocol, bedrockInvokeStreamProtocol } from './bedrock-invoke.js';
import {
  geminiBatchEmbedProtocol,
  geminiCountTokensProtocol,
  geminiEmbedProtocol,
  geminiGenerateProtocol,
  geminiStreamProtocol,
} from './gemini.js';
import { openaiChatProtocol } from './openai-chat.js';
import { openaiCompletionsProtocol } from './openai-completions.js';
import { openaiEmbeddingsProtocol } from './openai-embeddings.js';
import { openaiResponsesProtocol } from './openai-responses.js';
import type { HttpProtocolName, Protocol, RouteParams } from './types.js';

export const PROTOCOLS: readonly Protocol[] = [
  openaiChatProtocol,
  openaiCompletionsProtocol,
  openaiResponsesProtocol,
  openaiEmbeddingsProtocol,
  anthropicMessagesProtocol,
  bedrockConverseProtocol,
  bedrockConverseStreamProtocol,
  bedrockInvokeProtocol,
  bedrockInvokeStreamProtocol,
  geminiGenerateProtocol,
  geminiStreamProtocol,
  geminiCountTokensProtocol,
  geminiEmbedProtocol,
  geminiBatchEmbedProtocol,
];

const BY_PATH = new Map(PROTOCOLS.filter((p) => !p.matchPath).map((p) => [p.path, p]));
const TEMPLATED = PROTOCOLS.filter((p) => p.matchPath);
// Two routes of one protocol (Converse and ConverseStream) share its name; either answers for it.
const BY_NAME = new Map(PROTOCOLS.map((p) => [p.name, p]));

/** The protocol served on a route, by exact path: routing is the only place a path decides anything. */
export function protocolForPath(path: string): Protocol | undefined {
  return BY_PATH.get(path);
}

/** A route matched on the raw (still percent-encoded) path, with a templated route's parameters. */
export interface RouteMatch {
  protocol: Protocol;
  route: RouteParams | undefined;
}

export function matchRoute(rawPath: string, headers: RouteParams['headers']): RouteMatch | undefined {
  const exact = BY_PATH.get(rawPath);
  if (exact) return { protocol: exact, route: undefined };
  for (const protocol of TEMPLATED) {
    const params = protocol.matchPath?.(rawPath);
    if (params) return { protocol, route: { ...params, headers } };
  }
  return undefined;
}

export function protocolByName(name: HttpProtocolName): Protocol {
  const protocol = BY_NAME.get(name);
  if (!protocol) throw new SluiceError('INVALID_OPTION', `unknown protocol ${name}`, { field: 'protocol' });
  return protocol;
}

export type * from './types.js';
export { BEDROCK_ROUTE_PREFIX } from './bedrock-shared.js';
export { GEMINI_ROUTE_PREFIXES } from './gemini-shared.js';
export {
  anthropicMessagesProtocol,
  bedrockConverseProtocol,
  bedrockConverseStreamProtocol,
  bedrockInvokeProtocol,
  bedrockInvokeStreamProtocol,
  geminiBatchEmbedProtocol,
  geminiCountTokensProtocol,
  geminiEmbedProtocol,
  geminiGenerateProtocol,
  geminiStreamProtocol,
  openaiChatProtocol,
  openaiCompletionsProtocol,
  openaiEmbeddingsProtocol,
  openaiResponsesProtocol,
};
