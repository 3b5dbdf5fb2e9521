/**
 * Stable codes for what the library API refuses. Callers branch on `code`, never on the message.
 */
export type LibraryErrorCode =
  /** An option given to ResponseCache or a wrapper is invalid; the message names the field. */
  | 'LIB_INVALID_OPTIONS'
  /** A per-call argument (messages, model, params, ttl, tags...) is invalid; the message names it. */
  | 'LIB_INVALID_ARGUMENT'
  /** A getOrStream result was iterated a second time; streams are single use. */
  | 'LIB_STREAM_CONSUMED';

export class LibraryError extends Error {
  readonly code: LibraryErrorCode;

  constructor(code: LibraryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibraryError';
    this.code = code;
  }
}
