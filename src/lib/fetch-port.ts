import type { OutgoingHttpHeaders } from 'node:http';
import type { OutcomeHeaders } from '../cache/cache-status.js';
import type { Flight, FlightHead, FlightListener, FlightOutcome, UpstreamFailure } from '../capture/flight.js';
import type { UpstreamSource } from '../engine/drive.js';
import type { CallPort, FollowerAnswer, Found } from '../engine/call.js';
import { UpstreamError } from '../errors.js';
import type { RequestInfo } from '../protocols/types.js';
import type { ReplayPlan } from '../replay/replay.js';
import type { UsageStripper } from '../replay/usage-strip.js';
import { replayResponse } from './replay-response.js';

/**
 * The fetch edges of the engine: a source that is the real fetch, and a port that hands the SDK
 * a fetch Response fed by the engine (a replay, the flight's bytes, or a follower's answer).
 */

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The real fetch as an upstream: body bytes into the sink, pulled only as fast as listeners take them. */
export function fetchSource(
  realFetch: FetchFunction,
  url: string,
  init: RequestInit,
  asked: RequestInfo,
): UpstreamSource {
  return {
    run: async (sink, sent) => {
      // The caller's body, unless the engine changed the request (requestStreamUsage).
      const body = sent === asked ? init.body : JSON.stringify(sent.body);
      let response: Response;
      try {
        response = await realFetch(url, { ...init, body, signal: sink.signal });
      } catch (err) {
        if (!sink.closed) sink.fail(failureFrom('connect_failed', err));
        return;
      }
      sink.head({
        status: response.status,
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
        headers: passableHeaders(response.headers),
      });
      if (response.body) {
        const reader = response.body.getReader();
        try {
          for (;;) {
            const wait = sink.ready();
            if (wait) await wait;
            if (sink.closed) break;
            const { done, value } = await reader.read();
            if (done) break;
            sink.data(value);
          }
        } catch (err) {
          if (!sink.closed) sink.fail(failureFrom('upstream_reset', err));
          return;
        }
        if (sink.closed) {
          await reader.cancel().catch(() => undefined);
          return;
        }
      }
      sink.end();
    },
  };
}

function failureFrom(code: 'connect_failed' | 'upstream_reset', err: unknown): UpstreamFailure {
  // The real error travels as the cause, so the SDK maps it as it would without the cache.
  return { code, status: 502, message: err instanceof Error ? err.message : String(err), cause: err };
}

/** What a library caller receives for a failure: the original error when there is one, else a coded one. */
export function failureError(failure: UpstreamFailure): unknown {
  return failure.cause ?? new UpstreamError(failure.code, failure.status, failure.message);
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

function toHeaders(record: OutgoingHttpHeaders | OutcomeHeaders, extra?: OutcomeHeaders): Headers {
  const headers = new Headers();
  const add = (source: Record<string, string | number | string[] | undefined>) => {
    for (const [name, value] of Object.entries(source)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.set(name, String(value));
    }
  };
  add(record);
  if (extra) add(extra);
  return headers;
}

/** One fetch call's side of the engine: `response` settles with whatever the engine decided. */
export class FetchPort implements CallPort {
  readonly response: Promise<Response>;
  resolve!: (response: Response) => void;
  reject!: (err: unknown) => void;

  constructor(private readonly signal: AbortSignal | undefined) {
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Whatever the engine is doing for this call (a lookup, waiting on a leader), leaving ends it.
    // Handled here so a rejection that happens while the engine still works is not "unhandled";
    // the caller gets the same promise and its rejection.
    this.response.catch(() => undefined);
    if (signal?.aborted) this.reject(signal.reason);
    else signal?.addEventListener('abort', () => this.reject(signal.reason), { once: true });
  }

  replay(plan: ReplayPlan, _found: Found, headers: OutcomeHeaders): boolean {
    this.resolve(replayResponse(plan, toHeaders(headers), this.signal));
    return true;
  }

  stream(headers: OutcomeHeaders, stripper?: UsageStripper): FlightListener {
    return new StreamingListener(this, headers, this.signal, stripper);
  }

  answer(answer: FollowerAnswer, headers: OutcomeHeaders): void {
    if (answer.kind === 'replay') this.resolve(replayResponse(answer.plan, toHeaders(headers), this.signal));
    else if (answer.kind === 'upstream') {
      this.resolve(
        new Response(new Uint8Array(answer.body), { status: answer.head.status, headers: toHeaders(answer.head.headers, headers) }),
      );
    } else this.reject(failureError(answer.failure));
  }
}

/** Chunks a response body may queue before the listener asks the flight to wait. */
const HIGH_WATER_MARK = 64;

/**
 * One caller taking the flight's bytes as they come. Cancelling the body detaches it (so does
 * the caller's abort signal, through the engine); the flight aborts the upstream when the last
 * caller leaves, and an aborted flight is never stored. The body ends only after the entry write,
 * so a finished body means "stored".
 */
class StreamingListener implements FlightListener {
  readonly raw = true;
  #flight: Flight | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #left = false;
  #pulled: (() => void) | undefined;

  constructor(
    private readonly port: FetchPort,
    private readonly headers: OutcomeHeaders,
    signal: AbortSignal | undefined,
    private readonly stripper: UsageStripper | undefined,
  ) {
    // The SDK's abort (its timeout, or `break` out of a stream) ends the body with its reason, as fetch does.
    signal?.addEventListener('abort', () => this.#leave(signal.reason), { once: true });
  }

  onAttach(flight: Flight): void {
    this.#flight = flight;
  }

  onHead(head: FlightHead): void {
    if (this.#left || this.#controller) return;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#release(),
        cancel: () => this.#leave(undefined),
      },
      new CountQueuingStrategy({ highWaterMark: HIGH_WATER_MARK }),
    );
    this.port.resolve(new Response(body, { status: head.status, headers: toHeaders(head.headers, this.headers) }));
  }

  onData(chunk: Uint8Array): void {
    if (this.#left) return;
    // Usage this caller did not ask for is stripped (requestStreamUsage); an incomplete event waits.
    const out = this.stripper ? this.stripper.push(chunk) : chunk;
    if (out.byteLength === 0) return;
    // A copy: late joiners are handed the recorder's own buffer, which must stay intact.
    this.#controller?.enqueue(out.slice());
  }

  ready(): Promise<void> | undefined {
    const controller = this.#controller;
    if (this.#left || !controller || (controller.desiredSize ?? 1) > 0) return undefined;
    return new Promise((resolve) => {
      this.#pulled = resolve;
    });
  }

  onSettled(outcome: FlightOutcome): void {
    this.#release();
    if (this.#left) return;
    if (outcome.kind === 'failed') {
      const cause = failureError(outcome.failure);
      if (this.#controller) this.#controller.error(cause);
      else this.port.reject(cause);
      return;
    }
    if (!this.#controller) this.onHead(outcome.head);
    const committed = this.#flight?.committed ?? Promise.resolve(false);
    void committed.finally(() => {
      if (!this.#left) this.#controller?.close();
    });
  }

  #release(): void {
    const pulled = this.#pulled;
    this.#pulled = undefined;
    pulled?.();
  }

  #leave(reason?: unknown): void {
    if (this.#left) return;
    this.#left = true;
    this.#release();
    this.#flight?.detach(this);
    const error = reason ?? new DOMException('the response body was cancelled', 'AbortError');
    this.port.reject(error);
    try {
      this.#controller?.error(error);
    } catch {
      // Already closed or errored: nothing left to tell the reader.
    }
  }
}
