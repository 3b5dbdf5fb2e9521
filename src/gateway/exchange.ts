import type { ServerResponse } from 'node:http';
import type { CallerLifetime } from '../engine/engine.js';

/**
 * One request from its arrival to the close of its response, in one object with one `close`
 * listener (server.ts): what the handlers learned about it (route, cache outcome, model, key...)
 * for the request counter and the access log, work to do once the answer was delivered, and the
 * caller's lifetime for the engine. It replaces per-response WeakMaps and one listener per concern,
 * which a cache hit paid for on every request.
 */
export class Exchange implements CallerLifetime {
  readonly arrivedAt = performance.now();
  /** The route the response is counted under (set by the handler that answers; the path otherwise). */
  route: string | undefined;
  /** x-sluice-cache of the answer (HIT, MISS, ...), or NONE for a request refused before a lookup. */
  cache: string | undefined;
  /** The status to count, when it differs from the one written (a refusal written by sendError). */
  status: number | undefined;
  model: string | undefined;
  /** The upstream that answered a protocol route: a named upstream's name, else the family. */
  upstream: string | undefined;
  namespace: string | undefined;
  /** The entry key (a hash), for finding the entry with /admin/entries. */
  key: string | undefined;
  /** Response body bytes written, for the access log (counted by the writers). */
  bytes = 0;
  #left = false;
  #controller: AbortController | undefined;
  #onLeave: Array<() => void> | undefined;
  #delivered: Array<() => void> | undefined;

  constructor(readonly requestId: string) {}

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

  /** The labels the response is counted with once it finished (the last call wins). */
  label(route: string, cache: string, status?: number): void {
    this.route = route;
    this.cache = cache;
    this.status = status;
  }

  /** Run once the response finished (its last byte handed to the OS), never if it was cut. */
  whenDelivered(task: () => void): void {
    (this.#delivered ??= []).push(task);
  }

  /** Called by the one `close` listener: the response is over, delivered or cut. */
  closed(res: ServerResponse): void {
    if (!res.writableFinished) {
      this.#left = true;
      this.#controller?.abort();
      for (const listener of this.#onLeave?.splice(0) ?? []) listener();
      return;
    }
    if (this.#delivered) for (const task of this.#delivered) task();
  }
}
