import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FlightHead, FlightListener, FlightOutcome } from '../capture/flight.js';
import type { FollowerAnswer } from '../engine/engine.js';
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

/** One HTTP client taking a flight's bytes as they come (a forward, or a follower with the leader's framing). */
export class ClientResponse implements FlightListener {
  readonly raw = true;
  private pendingHead: FlightHead | undefined;
  private buffered: Uint8Array[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private sent = 0;
  /** The socket corked for the current turn (see corkForThisTurn). */
  private corkedSocket: Socket | undefined;

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
    if (this.options.flushIntervalMs === 0) {
      this.corkForThisTurn();
      this.res.write(chunk);
      return;
    }
    this.buffered.push(chunk);
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  onSettled(outcome: FlightOutcome): void {
    this.options.onBytes(this.sent);
    if (this.res.destroyed) {
      this.uncork();
      return;
    }
    if (outcome.kind === 'ended') {
      this.writeHeadIfPending();
      this.flush();
      // end() fully uncorks the socket itself: the last bytes and the chunked terminator leave in one write.
      this.corkedSocket = undefined;
      this.res.end();
      return;
    }
    this.uncork();
    this.flush();
    if (outcome.failure.code === 'client_disconnect' || this.res.headersSent) {
      // Bytes already went out: cut the connection so the client sees an incomplete stream,
      // never a clean end that looks complete.
      this.res.destroy();
      return;
    }
    const { failure } = outcome;
    sendError(this.res, this.options.family, failure.status, failure.message, failure.code, this.options.headers);
  }

  /**
   * Everything written during one turn of the event loop goes out in one write: the upstream
   * pieces read in one poll phase, and the end when it came with them, leave together right after
   * it (setImmediate), instead of one syscall each. It adds no wait beyond the current turn.
   * The socket is corked, not the response: Node 24 keeps a corked chunked response's writes in
   * a buffer of its own that `end()` would put after the terminating chunk, while a corked
   * socket holds the chunks in order and `end()` uncorks it with the terminator last.
   */
  private corkForThisTurn(): void {
    if (this.corkedSocket) return;
    const socket = this.res.socket;
    if (!socket) return;
    this.corkedSocket = socket;
    socket.cork();
    setImmediate(() => this.uncork());
  }

  /** Before a cut or an error answer too: bytes already written must not be dropped. */
  private uncork(): void {
    const socket = this.corkedSocket;
    if (!socket) return;
    this.corkedSocket = undefined;
    socket.uncork();
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
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.buffered.length === 0 || this.res.destroyed) return;
    const chunks = this.buffered;
    this.buffered = [];
    if (chunks.length === 1) this.res.write(chunks[0]);
    else this.res.write(Buffer.concat(chunks));
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
