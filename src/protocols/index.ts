import { anthropicMessagesProtocol } from './anthropic-messages.js';
import { openaiChatProtocol } from './openai-chat.js';
import { openaiCompletionsProtocol } from './openai-completions.js';
import { openaiEmbeddingsProtocol } from './openai-embeddings.js';
import { openaiResponsesProtocol } from './openai-responses.js';
import type { Protocol, ProtocolName } from './types.js';

export const PROTOCOLS: readonly Protocol[] = [
  openaiChatProtocol,
  openaiCompletionsProtocol,
  openaiResponsesProtocol,
  openaiEmbeddingsProtocol,
  anthropicMessagesProtocol,
];

const BY_PATH = new Map(PROTOCOLS.map((p) => [p.path, p]));
const BY_NAME = new Map(PROTOCOLS.map((p) => [p.name, p]));

/** The protocol served on a route, by exact path: routing is the only place a path decides anything. */
export function protocolForPath(path: string): Protocol | undefined {
  return BY_PATH.get(path);
}

export function protocolByName(name: ProtocolName): Protocol {
  const protocol = BY_NAME.get(name);
  if (!protocol) throw new Error(`unknown protocol ${name}`);
  return protocol;
}

export type * from './types.js';
export {
  anthropicMessagesProtocol,
  openaiChatProtocol,
  openaiCompletionsProtocol,
  openaiEmbeddingsProtocol,
  openaiResponsesProtocol,
};
