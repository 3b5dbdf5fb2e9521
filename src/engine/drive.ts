import type { Carried, Flight, FlightHead, UpstreamFailure } from '../capture/flight.js';
import type { CallLimits } from '../defaults.js';
import type { RequestInfo } from '../protocols/types.js';

/**
 * Where an answer's bytes come from. The gateway's is an HTTP call through undici, the caching
 * fetch's a real fetch, getOrStream's and getOrCreate's the caller's producer. A source feeds
 * the sink and stops when the sink is aborted (`sink.signal`, `sink.onAbort`); it classifies its
 * own errors into failures.
 */
export interface UpstreamSource {
  /** `request`: what to send, which may differ from what the caller asked (requestStreamUsage). */
  run(sink: UpstreamSink, request: RequestInfo): Promise<void>;
}

export interface UpstreamSink {
  head(head: FlightHead): void;
  /** A piece of the body. `carried`: the producer's value; `recordable: false` when it has no byte form. */
  data(bytes: Uint8Array, carried?: Carried, recordable?: boolean): void;
  end(): void;
  fail(failure: UpstreamFailure): void;
  /** Wait for it (when defined) before pulling the next piece: a listener is full. */
  ready(): Promise<void> | undefined;
  /** Whether the flight is over (a limit, an abort): the source should stop. */
  readonly closed: boolean;
  /** Aborted when the flight stops before its end; made on first read (a source that needs no signal pays for none). */
  readonly signal: AbortSignal;
  /** The same, as a callback: called once when the flight stops before its end. */
  onAbort(listener: () => void): void;
}

export interface DriveObserver {
  onHeaders?(seconds: number): void;
  onEnd?(seconds: number): void;
  onFailure?(failure: UpstreamFailure): void;
}

/**
 * Run one source into a flight under the call limits, whoever the caller is (DESIGN.md rule 9):
 * idle time (silence before the head and between pieces, not counting time a listener applied
 * backpressure), total duration and response size. Every way the call ends settles the flight
 * exactly once; a stalled source is abandoned when a limit passes, not waited for.
 */
export async function driveFlight(
  flight: Flight,
  source: UpstreamSource,
  request: RequestInfo,
  limits: CallLimits,
  observer: DriveObserver = {},
): Promise<void> {
  const startedAt = performance.now();
  let lastActivity = startedAt;
  let waiting = false;
  let received = 0;
  const fail = (failure: UpstreamFailure) => {
    if (flight.outcome) return;
    observer.onFailure?.(failure);
    flight.abort(failure);
  };
  const durationTimer = setTimeout(
    () =>
      fail({
        code: 'duration_limit',
        status: 504,
        message: `upstream answer exceeded the ${limits.maxStreamDurationMs} ms stream duration limit`,
      }),
    limits.maxStreamDurationMs,
  );
  durationTimer.unref();
  // One timer per call, re-armed only when it fires: a piece costs a clock read, not a timer.
  let idleTimer: NodeJS.Timeout | undefined;
  const checkIdle = () => {
    if (flight.outcome) return;
    const silent = performance.now() - lastActivity;
    if (!waiting && silent >= limits.idleTimeoutMs) {
      fail({ code: 'idle_timeout', status: 504, message: `the upstream sent nothing for ${limits.idleTimeoutMs} ms` });
      return;
    }
    idleTimer = setTimeout(checkIdle, waiting ? limits.idleTimeoutMs : limits.idleTimeoutMs - silent);
    idleTimer.unref();
  };
  idleTimer = setTimeout(checkIdle, limits.idleTimeoutMs);
  idleTimer.unref();

  const sink: UpstreamSink = {
    head: (head) => {
      if (flight.outcome) return;
      lastActivity = performance.now();
      observer.onHeaders?.((lastActivity - startedAt) / 1000);
      flight.start(head);
    },
    data: (bytes, carried, recordable) => {
      if (flight.outcome) return;
      received += bytes.byteLength;
      if (received > limits.maxResponseBytes) {
        fail({
          code: 'response_too_large',
          status: 502,
          message: `upstream answer exceeded the ${limits.maxResponseBytes}-byte response limit`,
        });
        return;
      }
      lastActivity = performance.now();
      flight.push(bytes, Date.now(), carried, recordable);
    },
    end: () => {
      if (flight.outcome) return;
      flight.finish();
      observer.onEnd?.((performance.now() - startedAt) / 1000);
    },
    fail,
    ready: () => {
      const wait = flight.ready();
      if (!wait) return undefined;
      waiting = true;
      return wait.finally(() => {
        waiting = false;
        lastActivity = performance.now();
      });
    },
    get closed() {
      return flight.outcome !== undefined;
    },
    get signal() {
      return flight.signal;
    },
    onAbort: (listener) => flight.onAbort(listener),
  };
  try {
    await source.run(sink, request);
    // A source that returned without ending or failing was cut short: never let that reach the gate.
    if (!flight.outcome) {
      fail({ code: 'upstream_reset', status: 502, message: 'the upstream answer stopped before its end' });
    }
  } catch (err) {
    fail({
      code: flight.head ? 'upstream_reset' : 'connect_failed',
      status: 502,
      message: err instanceof Error ? err.message : String(err),
      cause: err,
    });
  } finally {
    clearTimeout(durationTimer);
    clearTimeout(idleTimer);
  }
}
