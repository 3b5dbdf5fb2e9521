/**
 * Typed errors raised by the codecs in this folder. Each carries a stable `code` that callers
 * (capture, replay, metrics) switch on; messages are for people and may change.
 */

import { codedError, SluiceError } from '../errors.js';

export type SseDecodeErrorCode = 'SSE_REMAINDER_OVERFLOW';

/** Raised by the SSE decoder and boundary scanner when a frame outgrows its byte bound. */
export class SseDecodeError extends SluiceError {
  declare readonly code: SseDecodeErrorCode;
  /** The configured bound (`maxRemainderBytes`). */
  readonly limit: number;
  /** Absolute stream offset at which the frame that overflowed started. */
  readonly frameStart: number;

  constructor(code: SseDecodeErrorCode, message: string, limit: number, frameStart: number) {
    super(code, message);
    this.name = 'SseDecodeError';
    this.limit = limit;
    this.frameStart = frameStart;
  }
}

export type SseEncodeErrorCode = 'SSE_INVALID_FIELD';

/** Raised by the encoder for input that cannot be written as a single well-formed SSE frame. */
export class SseEncodeError extends SluiceError {
  declare readonly code: SseEncodeErrorCode;
  /** Which field was rejected (`event`, `id` or `retry`). */
  declare readonly field: string;

  constructor(code: SseEncodeErrorCode, field: string, message: string) {
    super(code, message, { field });
    this.name = 'SseEncodeError';
  }
}

export type EventStreamErrorCode =
  | 'EVENTSTREAM_FRAME_LENGTH'
  | 'EVENTSTREAM_PRELUDE_CRC'
  | 'EVENTSTREAM_MESSAGE_CRC'
  | 'EVENTSTREAM_HEADER'
  /** A recorded body that ends inside a frame. */
  | 'EVENTSTREAM_TRUNCATED';

/** Raised by the AWS event-stream codec (Bedrock's framing) for a frame that cannot be trusted. */
export class EventStreamError extends codedError<EventStreamErrorCode>('EventStreamError') {}

/** A codec option out of range, with the stable code and the field, like every other option error of Sluice. */
export class SseOptionError extends SluiceError {
  declare readonly code: 'INVALID_OPTION';
  declare readonly field: string;
  constructor(field: string, message: string) {
    super('INVALID_OPTION', message, { field });
    this.name = 'SseOptionError';
  }
}
