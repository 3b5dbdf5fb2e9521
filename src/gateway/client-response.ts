import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FlightHead, FlightListener, FlightOutcome } from '../capture/flight.js';
import type { FollowerAnswer } from '../engine/call.js';
import type { ProtocolFamily } from '../protocols/types.js';
import { isStreamContentType, type ReplayPlan, STREAM_RESPONSE_HEADERS, streamResponseHeaders } from '../replay/replay.js';
import type { UsageStripper } from '../replay/usage-strip.js';
import { sendError } from './http.js';

export interface ClientResponseOptions {
  family: ProtocolFamily;
  flushIntervalMs: number;
  /** x-request-id, x-sluice-cache, Cache-Status: added to whatever is sent. */
  headers: OutgoingHttpHeaders;
  /** The body bytes sent, once, when the answer is over (a counter per chunk costs every chunk). */
  onBytes(count: number): void;
  /** Fed a stream with usage this client did not ask for (cache.requestStreamUsage): strip it. */
  stripper?: UsageStripper | undefined;
}

/**
 * One HTTP client taking a flight's bytes as they come (a forward, or a follower with the leader's
 * framing). The pieces that arrive in one turn of the event loop (what undici read in one poll
 * phase) are gathered and written as one: one chunk of the chunked body and one syscall, instead
 * of a chunk frame and a write each. They leave right after the turn (setImmediate), so this adds
 * no wait; with flushIntervalMs > 0 they wait up to that long. An end that came in the same turn
 * goes out with them, terminator included, in one write.
 */
export class ClientResponse implements FlightListener {
  readonly raw = true;
  private pendingHead: FlightHead | undefined;
  private buffered: Uint8Array[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushImmediate: NodeJS.Immediate | undefined;
  private sent = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: ClientResponseOptions,
  ) {}

  onHead(head: FlightHead): void {
    // Headers go out with the first bytes, so a limit hit before any byte can still be a clean error.
    this.pendingHead = head;
  }

  onData(upstreamChunk: Uint8Array): void {
    if (this.res.destroyed) return;
    const chunk = this.options.stripper ? this.options.stripper.push(upstreamChunk) : upstreamChunk;
    // An event still incomplete: nothing to send yet (headers go out with the first bytes).
    if (chunk.byteLength === 0) return;
    this.writeHeadIfPending();
    this.sent += chunk.byteLength;
    this.buffered.push(chunk);
    if (this.options.flushIntervalMs === 0) this.flushImmediate ??= setImmediate(() => this.flush());
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  onSettled(outcome: FlightOutcome): void {
    this.options.onBytes(this.sent);
    if (this.res.destroyed) {
      this.cancelFlush();
      return;
    }
    if (outcome.kind === 'ended') {
      this.writeHeadIfPending();
      // The last bytes and the chunked terminator leave in one write.
      const last = this.takeBuffered();
      if (last) this.res.end(last);
      else this.res.end();
      return;
    }
    if (outcome.failure.code === 'client_disconnect' || this.res.headersSent) {
      // Bytes already went out: cut the connection so the client sees an incomplete stream,
      // never a clean end that looks complete; what was gathered goes out first, then the cut.
      const last = this.takeBuffered();
      if (last && outcome.failure.code !== 'client_disconnect') this.res.write(last, () => this.res.destroy());
      else this.res.destroy();
      return;
    }
    this.cancelFlush();
    const { failure } = outcome;
    sendError(this.res, this.options.family, failure.status, failure.message, failure.code, this.options.headers);
  }

  private writeHeadIfPending(): void {
    const head = this.pendingHead;
    if (!head) return;
    this.pendingHead = undefined;
    // One object, filled in place (spreads cost every forwarded answer microseconds); later names win, as with spreads.
    const headers: OutgoingHttpHeaders = {};
    for (const name in head.headers) headers[name] = head.headers[name];
    if (head.status === 200) Object.assign(headers, streamResponseHeaders(head.contentType));
    for (const name in this.options.headers) headers[name] = this.options.headers[name];
    this.res.writeHead(head.status, headers);
  }

  private flush(): void {
    const chunk = this.takeBuffered();
    if (chunk && !this.res.destroyed) this.res.write(chunk);
  }

  /** What is waiting to be written, as one buffer (undefined: nothing), with its flush cancelled. */
  private takeBuffered(): Uint8Array | undefined {
    this.cancelFlush();
    const chunks = this.buffered;
    if (chunks.length === 0) return undefined;
    this.buffered = [];
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  private cancelFlush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.flushImmediate) {
      clearImmediate(this.flushImmediate);
      this.flushImmediate = undefined;
    }
  }
}

/** A converting follower's answer over HTTP: the converted entry, the upstream's error as it was, or ours. */
export function sendFollowerAnswer(
  res: ServerResponse,
  family: ProtocolFamily,
  answer: FollowerAnswer,
  headers: OutgoingHttpHeaders,
  onBytes: (count: number) => void,
): void {
  if (res.destroyed) return;
  if (answer.kind === 'replay') {
    sendReplay(res, answer.plan, headers, onBytes);
  } else if (answer.kind === 'upstream') {
    res.writeHead(answer.head.status, { ...answer.head.headers, ...headers });
    // Counted like the leader's copy of the same answer (ClientResponse counts what it sent).
    onBytes(answer.body.byteLength);
    res.end(answer.body);
  } else {
    const { failure } = answer;
    sendError(res, family, failure.status, failure.message, failure.code, headers);
  }
}

/**
 * Send a replay plan: one write when instant, paced writes otherwise (stopped if the client leaves).
 * The header object is built once, in the order a client sees them: x-request-id, `headers`
 * (the outcome), then the stream or length headers.
 */
export function sendReplay(
  res: ServerResponse,
  plan: ReplayPlan,
  headers: OutgoingHttpHeaders,
  onBytes: (count: number) => void,
  requestId?: string,
): void {
  const { frames, delaysMs } = plan;
  const answerHeaders: OutgoingHttpHeaders = requestId === undefined ? {} : { 'x-request-id': requestId };
  for (const name in headers) if (headers[name] !== undefined) answerHeaders[name] = headers[name];
  const stream = isStreamContentType(plan.contentType);
  if (stream) Object.assign(answerHeaders, STREAM_RESPONSE_HEADERS);
  answerHeaders['content-type'] = plan.contentType;
  if (!delaysMs) {
    const body = frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames);
    if (!stream) answerHeaders['content-length'] = body.byteLength;
    res.writeHead(200, answerHeaders);
    res.end(body);
    onBytes(body.byteLength);
    return;
  }
  res.writeHead(200, answerHeaders);
  res.flushHeaders();
  let index = 0;
  let waited = false;
  let timer: NodeJS.Timeout | undefined;
  res.once('close', () => clearTimeout(timer));
  const pump = () => {
    while (index < frames.length) {
      if (res.destroyed) return;
      const delay = delaysMs[index] ?? 0;
      if (delay > 0 && !waited) {
        waited = true;
        timer = setTimeout(pump, delay);
        return;
      }
      waited = false;
      const frame = frames[index++] as Uint8Array;
      onBytes(frame.byteLength);
      res.write(frame);
    }
    res.end();
  };
  pump();
}
