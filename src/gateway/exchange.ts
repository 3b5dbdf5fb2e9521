import type { ServerResponse } from 'node:http';
import type { CallerLifetime } from '../engine/call.js';
import type { OutcomeWriter } from '../engine/outcome.js';

/**
 * One request from its arrival to the close of its response, in one object with one `close`
 * listener (server.ts): the outcome record its handlers and the engine write to (engine/outcome.ts,
 * read only by the sinks once the response closed), and the caller's lifetime for the engine. It
 * replaces per-response WeakMaps and one listener per concern, which a cache hit paid for on every
 * request.
 */
export class Exchange implements CallerLifetime {
  /** traceparent (and tracestate) of this request's span, when traces are on: sent upstream with a forward. */
  traceHeaders: Record<string, string> | undefined = undefined;
  #left = false;
  #controller: AbortController | undefined;
  #onLeave: Array<() => void> | undefined;

  constructor(
    readonly requestId: string,
    /** Where the handlers and the engine write what they learned (route, model, outcome, bytes...). */
    readonly record: OutcomeWriter,
  ) {}

  /** Whether the client left before the last byte of its answer was written. */
  get left(): boolean {
    return this.#left;
  }

  /**
   * Aborted when the client leaves, however early (for an undici call made outside the engine):
   * made on first use, since Node 20 takes several microseconds to make an AbortSignal.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#left) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  onLeave(listener: () => void): () => void {
    (this.#onLeave ??= []).push(listener);
    return () => {
      const listeners = this.#onLeave;
      const at = listeners ? listeners.indexOf(listener) : -1;
      if (listeners && at >= 0) listeners.splice(at, 1);
    };
  }

  /** Called by the one `close` listener: the response is over, delivered or cut. */
  closed(res: ServerResponse): void {
    if (res.writableFinished) return;
    this.#left = true;
    this.#controller?.abort();
    for (const listener of this.#onLeave?.splice(0) ?? []) listener();
  }
}
