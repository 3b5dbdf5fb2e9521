import { codedError } from '../errors.js';

/**
 * Stable codes for what a protocol implementation can refuse to do. Callers branch on `code`,
 * never on the message.
 */
export type ProtocolErrorCode =
  /** The protocol has no stream form (e.g. embeddings), so there is nothing to assemble or synthesize. */
  | 'PROTOCOL_NOT_STREAMABLE'
  /** A recorded stream holds nothing an answer can be built from (no parseable chunk at all). */
  | 'PROTOCOL_MALFORMED_STREAM'
  /** A JSON answer is not one this protocol can turn into a stream (not an object, no choices...). */
  | 'PROTOCOL_MALFORMED_ANSWER';

export class ProtocolError extends codedError<ProtocolErrorCode>('ProtocolError') {}
