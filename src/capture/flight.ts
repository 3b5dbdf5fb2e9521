import type { OutgoingHttpHeaders } from 'node:http';
import type { CallerLifetime } from '../engine/call.js';
import type { FailureCode } from '../errors.js';
import type { RequestInfo } from '../protocols/types.js';
import type { EntryWriter } from './entry-writer.js';
import type { GateVerdict } from './gate.js';
import { framingForContentType } from '../sse/framing.js';
import { Recorder } from './recorder.js';

export type { FailureCode } from '../errors.js';

export interface FlightHead {
  status: number;
  contentType: string;
  /** Upstream response headers worth passing to clients (hop-by-hop and framing already removed). */
  headers: OutgoingHttpHeaders;
}

export interface UpstreamFailure {
  code: FailureCode;
  /** The status to answer with when nothing was sent to the client yet. */
  status: 502 | 504 | 499;
  message: string;
  /** The error behind it (a fetch or producer error): library callers receive it as is. */
  cause?: unknown;
}

export type FlightOutcome =
  | { kind: 'ended'; head: FlightHead; verdict: GateVerdict; body: Buffer | undefined }
  | { kind: 'failed'; head: FlightHead | undefined; failure: UpstreamFailure };

/** A value that travelled with its bytes (a library producer's chunk), so listeners need not decode it. */
export interface Carried {
  value: unknown;
}

/** A client attached to a flight. Raw listeners get the upstream bytes as they come. */
export interface FlightListener {
  readonly raw: boolean;
  onHead(head: FlightHead): void;
  /** `carried` is set for live pieces of a library producer; catch-up bytes never carry it. */
  onData(chunk: Uint8Array, carried?: Carried): void;
  onSettled(outcome: FlightOutcome): void;
  /**
   * Backpressure: a pending promise while this listener cannot take more, else undefined.
   * The flight's driver waits for it before pulling the next piece.
   */
  ready?(): Promise<void> | undefined;
  /** Told which flight it joined, so it can leave it (a cancelled body) or wait for its commit. */
  onAttach?(flight: Flight): void;
  /** Told when every other listener has left (the fleet relay decides then whether anyone still listens). */
  onAlone?(): void;
}

export interface FlightOptions {
  maxEntryBytes: number;
  maxListeners: number;
  /** Keep the upstream going after the last client left, so the answer can still be stored. */
  completeOnDisconnect: boolean;
  /** The request that started the flight: joiners compare their framing with it. */
  leader: RequestInfo;
  /**
   * The completeness gate. Absent when the answer can be neither stored nor shared (BYPASS):
   * the flight is then a plain pipe that keeps no bytes and decodes nothing. `upstreamMs`: time
   * since the flight was created (the upstream request is sent at once) until its body ended.
   */
  judge?: ((head: FlightHead, recorder: Recorder, upstreamMs: number) => GateVerdict) | undefined;
  /** The one commit point: committed in finish() when the gate says yes, dropped otherwise. */
  writer?: EntryWriter | undefined;
}

const NOT_RECORDED: GateVerdict = { storable: false, reason: 'not_recorded' };
const NOT_WRITTEN = Promise.resolve(false);

/**
 * One upstream answer in flight: recorded as it passes and fanned out to every attached client
 * (the first one and any identical requests that join later). The upstream is aborted when the
 * last client leaves, unless completeOnDisconnect.
 */
export class Flight {
  readonly leader: RequestInfo;
  head: FlightHead | undefined;
  outcome: FlightOutcome | undefined;
  /** Settles once the entry write (if any) is over: a listener that waits for it ends on "stored". */
  committed: Promise<boolean> = NOT_WRITTEN;
  private recorder: Recorder | undefined;
  /** Each listener, with what undoes its attachment (the abort subscription on its signal). */
  private readonly listeners = new Map<FlightListener, (() => void) | undefined>();
  private readonly settledCallbacks: Array<(outcome: FlightOutcome) => void> = [];
  private readonly createdAt = performance.now();
  /** Made on first use: Node 20 takes microseconds to make an AbortSignal, and most sources need none. */
  private controller: AbortController | undefined;
  private abortReason: UpstreamFailure | undefined;
  private readonly abortListeners: Array<(reason: UpstreamFailure) => void> = [];

  constructor(private readonly options: FlightOptions) {
    this.leader = options.leader;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Late joiners need the whole recording to catch up; once it is dropped nobody can join. */
  get joinable(): boolean {
    return (
      this.options.judge !== undefined &&
      this.outcome === undefined &&
      this.recorder?.dropped === undefined &&
      this.listeners.size < this.options.maxListeners
    );
  }

  /**
   * Attach a client for as long as its caller is there: attaching for a caller that already left
   * is a detach (returns false), and its leaving later detaches it. A joiner first receives
   * everything recorded so far.
   */
  attach(listener: FlightListener, caller?: CallerLifetime): boolean {
    if (caller?.left) {
      this.leave();
      return false;
    }
    // Removed again on detach or settle: a caller (a library signal) may outlive many calls.
    const unsubscribe = caller?.onLeave(() => this.detach(listener));
    this.listeners.set(listener, unsubscribe);
    listener.onAttach?.(this);
    if (this.head) {
      listener.onHead(this.head);
      if (listener.raw && this.recorder && this.recorder.byteLength > 0) listener.onData(this.recorder.bytes());
    }
    return true;
  }

  detach(listener: FlightListener): void {
    if (!this.listeners.has(listener)) return;
    this.listeners.get(listener)?.();
    this.listeners.delete(listener);
    this.leave();
  }

  private leave(): void {
    if (this.outcome) return;
    if (this.listeners.size === 1) this.listeners.keys().next().value?.onAlone?.();
    if (this.listeners.size === 0 && !this.options.completeOnDisconnect) {
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
    for (const listener of this.listeners.keys()) listener.onHead(head);
  }

  /** `recordable: false` for a piece that has no byte form (a chunk the serializer refused). */
  push(chunk: Uint8Array, now: number, carried?: Carried, recordable = true): void {
    if (recordable) this.recorder?.push(chunk, now);
    else this.recorder?.drop('unserializable');
    for (const listener of this.listeners.keys()) if (listener.raw) listener.onData(chunk, carried);
  }

  /** Resolves when every listener can take more; undefined (no wait) in the common case. */
  ready(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const listener of this.listeners.keys()) {
      const wait = listener.ready?.();
      if (wait) (waits ??= []).push(wait);
    }
    if (!waits) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }

  /** The upstream body ended normally: judge it, commit the writer when the gate says yes, tell everyone. */
  finish(): void {
    if (this.outcome || !this.head) return;
    const { judge, writer } = this.options;
    const recorder = this.recorder;
    const verdict =
      judge && recorder ? judge(this.head, recorder, performance.now() - this.createdAt) : NOT_RECORDED;
    const body = recorder && !recorder.dropped ? recorder.bytes() : undefined;
    if (writer) {
      if (verdict.storable) this.committed = writer.commit(verdict.entry);
      else writer.drop(verdict.reason);
    }
    this.settle({ kind: 'ended', head: this.head, verdict, body });
  }

  /** Stop the upstream for a reason (limit, reset, every client gone). Never stored. */
  abort(failure: UpstreamFailure): void {
    if (this.outcome) return;
    this.recorder?.drop(failure.code);
    this.options.writer?.drop(failure.code);
    this.settle({ kind: 'failed', head: this.head, failure });
    this.abortReason = failure;
    for (const listener of this.abortListeners) listener(failure);
    this.abortListeners.length = 0;
    this.controller?.abort(failure);
  }

  /** Aborted (with the failure as its reason) when the flight is stopped before its end. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Called once if the flight is stopped before its end (at once if it already was). */
  onAbort(listener: (reason: UpstreamFailure) => void): void {
    if (this.abortReason) listener(this.abortReason);
    else if (!this.outcome) this.abortListeners.push(listener);
  }

  private settle(outcome: FlightOutcome): void {
    this.outcome = outcome;
    // An answer that ended is never aborted: nobody is left to tell.
    if (outcome.kind === 'ended') this.abortListeners.length = 0;
    for (const [listener, unsubscribe] of this.listeners) {
      unsubscribe?.();
      listener.onSettled(outcome);
    }
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
