import { codedError } from '../errors.js';

/** The codes of what the library API refuses. Callers branch on `code`, never on the message. */
export type LibraryErrorCode = 'LIB_INVALID_OPTIONS' | 'LIB_INVALID_ARGUMENT' | 'LIB_STREAM_CONSUMED';

/** A SluiceError raised by the library API itself (bad options or arguments, a reused stream). */
export class LibraryError extends codedError<LibraryErrorCode>('LibraryError') {}
