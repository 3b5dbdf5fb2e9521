export {
  createSseBoundaryScanner,
  type SseBoundaryScanner,
  type SseBoundaryScannerOptions,
} from './boundary-scanner.js';
export { createSseDecoder, type SseDecoder, type SseDecoderOptions } from './decoder.js';
export { encodeSseEvent, encodeSseEvents } from './encoder.js';
export {
  EventStreamError,
  type EventStreamErrorCode,
  SseDecodeError,
  type SseDecodeErrorCode,
  SseEncodeError,
  type SseEncodeErrorCode,
  SseOptionError,
} from './errors.js';
export {
  createEventStreamDecoder,
  type EventStreamDecoder,
  type EventStreamDecoderOptions,
  type EventStreamHeaders,
  type EventStreamHeaderValue,
  type EventStreamMessage,
  encodeEventStreamMessage,
} from './eventstream.js';
export type { SseEvent, SseEventInit } from './types.js';
