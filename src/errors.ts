import type { StoreErrorCode } from './cache/store.js';
import type { ConfigErrorCode } from './config.js';
import type { ProtocolErrorCode } from './protocols/errors.js';
import type { SemanticErrorCode } from './semantic/types.js';
import type { EventStreamErrorCode, SseDecodeErrorCode, SseEncodeErrorCode } from './sse/errors.js';

/**
 * Errors the public API raises, every one a SluiceError (subclasses for the stores, the config,
 * the codecs, the protocols and the semantic layer; test/errors.test.ts enumerates them). Callers branch on `code` (stable), never on the message.
 * Option errors also carry `field`, the dotted path of the option that was refused.
 */

/** Why an upstream call (an HTTP upstream, or a library producer) ended without a whole answer. */
export type FailureCode =
  | 'connect_failed'
  | 'connect_timeout'
  | 'idle_timeout'
  | 'upstream_reset'
  | 'duration_limit'
  | 'response_too_large'
  | 'client_disconnect'
  | 'upstream_incomplete'
  | 'producer_failed'
  /** The replica leading a shared upstream call (coalescing across replicas) died before its end. */
  | 'leader_lost';

export type SluiceErrorCode =
  /** An option given to ResponseCache, a wrapper or the gateway config is invalid: see `field`. */
  | 'LIB_INVALID_OPTIONS'
  /** A per-call argument (messages, model, params, ttl, tags...) is invalid: see `field`. */
  | 'LIB_INVALID_ARGUMENT'
  /** A getOrStream result was iterated a second time; streams are single use. */
  | 'LIB_STREAM_CONSUMED'
  /** A store-wrapper or codec option is invalid: see `field`. */
  | 'INVALID_OPTION'
  | FailureCode
  // The codes of the subclasses, each declared beside its class.
  | StoreErrorCode
  | ConfigErrorCode
  | ProtocolErrorCode
  | SemanticErrorCode
  | SseDecodeErrorCode
  | SseEncodeErrorCode
  | EventStreamErrorCode
  | 'BODY_TOO_LARGE'
  | 'START_FAILED';

export class SluiceError extends Error {
  readonly code: SluiceErrorCode;
  /** The option or argument at fault, for option and argument errors. */
  readonly field: string | undefined;

  constructor(code: SluiceErrorCode, message: string, options: { cause?: unknown; field?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.field = options.field;
  }
}

/** A SluiceError whose `code` is one of a subsystem's own codes (see codedError). */
export interface CodedError<Code extends SluiceErrorCode> extends SluiceError {
  readonly code: Code;
}

/** The class codedError returns, for a module's error class to extend. */
export interface CodedErrorClass<Code extends SluiceErrorCode> {
  new (code: Code, message: string, options?: { cause?: unknown; field?: string }): CodedError<Code>;
  readonly prototype: CodedError<Code>;
}

/**
 * The base of a SluiceError subclass whose constructor takes only the codes in `Code` and whose
 * `name` is `name`. A subsystem declares its error class in one line, a value and a type alike:
 *
 *     export class StoreError extends codedError<StoreErrorCode>('StoreError') {}
 */
export function codedError<Code extends SluiceErrorCode>(name: string): CodedErrorClass<Code> {
  return class extends SluiceError {
    declare readonly code: Code;
    constructor(code: Code, message: string, options: { cause?: unknown; field?: string } = {}) {
      super(code, message, options);
      // Set here, not read from the class: a minifier may rename classes, never this string.
      this.name = name;
    }
  };
}

/**
 * The upstream (or the producer function) failed to give a whole answer: a limit, a reset, a
 * stall. `status` is what the gateway answers with in the same case (502, 504...).
 */
export class UpstreamError extends SluiceError {
  declare readonly code: FailureCode;
  readonly status: number;

  constructor(code: FailureCode, status: number, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'UpstreamError';
    this.status = status;
  }
}
