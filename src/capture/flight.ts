import type { OutgoingHttpHeaders } from 'node:http';
import type { GateVerdict } from './gate.js';
import { framingForContentType } from '../sse/framing.js';
import { Recorder } from './recorder.js';

export interface FlightHead {
  status: number;
  contentType: string;
  /** Upstream response headers worth passing to clients (hop-by-hop and framing already removed). */
  headers: OutgoingHttpHeaders;
}

export type FailureCode =
  | 'connect_failed'
  | 'connect_timeout'
  | 'idle_timeout'
  | 'upstream_reset'
  | 'duration_limit'
  | 'response_too_large'
  | 'client_disconnect';

export interface UpstreamFailure {
  code: FailureCode;
  /** The status to answer with when nothing was sent to the client yet. */
  status: 502 | 504 | 499;
  message: string;
}

export type FlightOutcome =
  | { kind: 'ended'; head: FlightHead; verdict: GateVerdict; body: Buffer | undefined }
  | { kind: 'failed'; head: FlightHead | undefined; failure: UpstreamFailure };

/** A client attached to a flight. Raw listeners get the upstream bytes as they come. */
export interface FlightListener {
  readonly raw: boolean;
  onHead(head: FlightHead): void;
  onData(chunk: Uint8Array): void;
  onSettled(outcome: FlightOutcome): void;
}

export interface FlightOptions {
  maxEntryBytes: number;
  maxListeners: number;
  /** Keep the upstream going after the last client left, so the answer can still be stored. */
  completeOnDisconnect: boolean;
  /**
   * The completeness gate. Absent when the answer can be neither stored nor shared (BYPASS):
   * the flight is then a plain pipe that keeps no bytes and decodes nothing. `upstreamMs`: time
   * since the flight was created (the upstream request is sent at once) until its body ended.
   */
  judge?: ((head: FlightHead, recorder: Recorder, upstreamMs: number) => GateVerdict) | undefined;
}

const NOT_RECORDED: GateVerdict = { storable: false, reason: 'not_recorded' };

/**
 * One upstream answer in flight: recorded as it passes and fanned out to every attached client
 * (the first one and any identical requests that join later). The upstream is aborted when the
 * last client leaves, unless completeOnDisconnect.
 */
export class Flight {
  readonly controller = new AbortController();
  head: FlightHead | undefined;
  outcome: FlightOutcome | undefined;
  private recorder: Recorder | undefined;
  private readonly listeners = new Set<FlightListener>();
  private readonly settledCallbacks: Array<(outcome: FlightOutcome) => void> = [];
  private readonly createdAt = performance.now();

  constructor(private readonly options: FlightOptions) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Late joiners need the whole recording to catch up; once it is dropped nobody can join. */
  get joinable(): boolean {
    return (
      this.options.judge !== undefined &&
      this.outcome === undefined &&
      !this.controller.signal.aborted &&
      this.recorder?.dropped === undefined &&
      this.listeners.size < this.options.maxListeners
    );
  }

  /** Attach a client. A joiner first receives everything recorded so far. */
  attach(listener: FlightListener): void {
    this.listeners.add(listener);
    if (this.head) {
      listener.onHead(this.head);
      if (listener.raw && this.recorder && this.recorder.byteLength > 0)
        listener.onData(this.recorder.bytes());
    }
  }

  detach(listener: FlightListener): void {
    if (!this.listeners.delete(listener)) return;
    if (this.listeners.size === 0 && !this.outcome && !this.options.completeOnDisconnect) {
      this.abort({ code: 'client_disconnect', status: 499, message: 'every client disconnected' });
    }
  }

  onSettled(callback: (outcome: FlightOutcome) => void): void {
    if (this.outcome) callback(this.outcome);
    else this.settledCallbacks.push(callback);
  }

  start(head: FlightHead): void {
    this.head = head;
    if (this.options.judge) this.recorder = new Recorder(this.options.maxEntryBytes, framingForContentType(head.contentType));
    for (const listener of this.listeners) listener.onHead(head);
  }

  push(chunk: Uint8Array, now: number): void {
    this.recorder?.push(chunk, now);
    for (const listener of this.listeners) if (listener.raw) listener.onData(chunk);
  }

  /** The upstream body ended normally: judge it, then tell everyone. */
  finish(): void {
    if (this.outcome || !this.head) return;
    const { judge } = this.options;
    const recorder = this.recorder;
    const verdict =
      judge && recorder ? judge(this.head, recorder, performance.now() - this.createdAt) : NOT_RECORDED;
    const body = recorder && !recorder.dropped ? recorder.bytes() : undefined;
    this.settle({ kind: 'ended', head: this.head, verdict, body });
  }

  /** Stop the upstream for a reason (limit, reset, every client gone). Never stored. */
  abort(failure: UpstreamFailure): void {
    if (this.outcome) return;
    this.recorder?.drop(failure.code);
    this.settle({ kind: 'failed', head: this.head, failure });
    this.controller.abort(failure);
  }

  private settle(outcome: FlightOutcome): void {
    this.outcome = outcome;
    for (const listener of this.listeners) listener.onSettled(outcome);
    this.listeners.clear();
    for (const callback of this.settledCallbacks) callback(outcome);
    this.settledCallbacks.length = 0;
  }
}

/** In-flight answers by cache key, so identical requests share one upstream call. */
export class FlightRegistry {
  private readonly flights = new Map<string, Flight>();

  get size(): number {
    return this.flights.size;
  }

  joinable(key: string): Flight | undefined {
    const flight = this.flights.get(key);
    return flight?.joinable ? flight : undefined;
  }

  register(key: string, flight: Flight): void {
    this.flights.set(key, flight);
  }

  release(key: string, flight: Flight): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
  }
}
