import type { OutgoingHttpHeaders } from 'node:http';
import type { Flight, FlightHead, FlightListener, FlightOutcome } from '../capture/flight.js';

/**
 * The HTTP edge of a capture flight when the "upstream" is a fetch call: drive the flight from a
 * fetch Response, and hand each caller its own Response fed by the flight. This is what the
 * gateway's upstream client and ClientResponse do, in Web-stream terms.
 */

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Errors are kept per flight so each caller fails with the real cause (the SDK maps it, e.g. to APIConnectionError). */
const flightErrors = new WeakMap<Flight, unknown>();

/** Fetch the answer and feed it into the flight; every way the call ends settles the flight once. */
export async function driveFlightWithFetch(
  flight: Flight,
  realFetch: FetchFunction,
  url: string,
  init: RequestInit,
): Promise<void> {
  try {
    const response = await realFetch(url, { ...init, signal: flight.controller.signal });
    flight.start({
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      headers: passableHeaders(response.headers),
    });
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (flight.outcome) {
          await reader.cancel().catch(() => undefined);
          return;
        }
        flight.push(value, Date.now());
      }
    }
    flight.finish();
  } catch (err) {
    if (flight.outcome) return;
    flightErrors.set(flight, err);
    flight.abort({
      code: flight.head ? 'upstream_reset' : 'connect_failed',
      status: 502,
      message: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * Response headers as a consumer may see them: fetch has already decoded the body, so the
 * framing and encoding headers of the wire no longer describe it.
 */
function passableHeaders(headers: Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  headers.forEach((value, name) => {
    if (name === 'content-encoding' || name === 'content-length' || name === 'transfer-encoding') return;
    out[name] = value;
  });
  return out;
}

export function toHeaders(record: OutgoingHttpHeaders, extra: Record<string, string>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return headers;
}

export interface StreamingListenerOptions {
  /** Headers added to the upstream ones (x-sluice-cache...). */
  extraHeaders: Record<string, string>;
  /** The caller's abort signal: its timeout or `break` out of an SDK stream. */
  signal: AbortSignal | undefined;
  /** Resolves once the entry write (if any) is done, so a finished body means "stored". */
  afterWrite: () => Promise<unknown>;
}

/**
 * One caller attached to a flight that gets the upstream bytes as they come (its request has the
 * flight's format). Leaving early (cancel or abort) detaches it; the flight aborts the upstream
 * when the last caller leaves, and an aborted flight is never stored.
 */
export class StreamingListener implements FlightListener {
  readonly raw = true;
  readonly response: Promise<Response>;
  #resolve!: (response: Response) => void;
  #reject!: (err: unknown) => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #left = false;

  constructor(
    private readonly flight: Flight,
    private readonly options: StreamingListenerOptions,
  ) {
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = options.signal;
    if (signal?.aborted) queueMicrotask(() => this.#leave(signal.reason));
    else signal?.addEventListener('abort', () => this.#leave(signal.reason), { once: true });
  }

  onHead(head: FlightHead): void {
    if (this.#left || this.#controller) return;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => this.#leave(undefined),
    });
    const headers = toHeaders(head.headers, this.options.extraHeaders);
    this.#resolve(new Response(body, { status: head.status, headers }));
  }

  onData(chunk: Uint8Array): void {
    if (this.#left) return;
    // A copy: late joiners are handed the recorder's own buffer, which must stay intact.
    this.#controller?.enqueue(chunk.slice());
  }

  onSettled(outcome: FlightOutcome): void {
    if (this.#left) return;
    if (outcome.kind === 'failed') {
      const cause = flightErrors.get(this.flight) ?? new Error(outcome.failure.message);
      if (this.#controller) this.#controller.error(cause);
      else this.#reject(cause);
      return;
    }
    if (!this.#controller) this.onHead(outcome.head);
    void this.options.afterWrite().finally(() => {
      if (!this.#left) this.#controller?.close();
    });
  }

  #leave(reason: unknown): void {
    if (this.#left) return;
    this.#left = true;
    this.flight.detach(this);
    const error = reason ?? new DOMException('the response body was cancelled', 'AbortError');
    this.#reject(error);
    try {
      this.#controller?.error(error);
    } catch {
      // Already closed or errored: nothing left to tell the reader.
    }
  }
}
