import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FlightHead, FlightListener, FlightOutcome } from '../capture/flight.js';
import type { ReplayPacing } from '../config.js';
import type { Protocol, RequestInfo } from '../protocols/types.js';
import { entryServes, isStreamContentType, planReplay, type ReplayPlan, streamResponseHeaders } from '../replay/replay.js';
import type { UsageStripper } from '../replay/usage-strip.js';
import { sendError } from './http.js';

export interface ClientResponseOptions {
  protocol: Protocol;
  request: RequestInfo;
  pacing: ReplayPacing;
  flushIntervalMs: number;
  /** x-request-id, x-sluice-cache, Cache-Status: added to whatever is sent. */
  headers: OutgoingHttpHeaders;
  onBytes(count: number): void;
  /** A converting client the shared answer cannot serve exactly (see entryServes). */
  onUnserved?(): void;
  /** Raw clients fed a stream with usage they did not ask for (cache.requestStreamUsage). */
  stripper?: UsageStripper | undefined;
}

/**
 * One client attached to a flight. A raw client (its request has the flight's format) gets the
 * upstream bytes as they come; a converting client (stream vs JSON differ) waits for the end and
 * is answered from the judged entry.
 */
export class ClientResponse implements FlightListener {
  private pendingHead: FlightHead | undefined;
  private buffered: Uint8Array[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    readonly raw: boolean,
    private readonly options: ClientResponseOptions,
  ) {}

  onHead(head: FlightHead): void {
    // Headers go out with the first bytes, so a limit hit before any byte can still be a clean error.
    if (this.raw) this.pendingHead = head;
  }

  onData(upstreamChunk: Uint8Array): void {
    if (this.res.destroyed) return;
    const chunk = this.options.stripper ? this.options.stripper.push(upstreamChunk) : upstreamChunk;
    // An event still incomplete: nothing to send yet (headers go out with the first bytes).
    if (chunk.byteLength === 0) return;
    this.writeHeadIfPending();
    this.options.onBytes(chunk.byteLength);
    if (this.options.flushIntervalMs === 0) {
      this.res.write(chunk);
      return;
    }
    this.buffered.push(chunk);
    this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  onSettled(outcome: FlightOutcome): void {
    if (this.res.destroyed) return;
    if (this.raw) this.settleRaw(outcome);
    else this.settleConverted(outcome);
  }

  private settleRaw(outcome: FlightOutcome): void {
    if (outcome.kind === 'ended') {
      this.writeHeadIfPending();
      this.flush();
      this.res.end();
      return;
    }
    this.flush();
    if (outcome.failure.code === 'client_disconnect') {
      this.res.destroy();
    } else if (this.res.headersSent) {
      // Bytes already went out: cut the connection so the client sees an incomplete stream,
      // never a clean end that looks complete.
      this.res.destroy();
    } else {
      sendError(
        this.res,
        this.options.protocol.family,
        outcome.failure.status,
        outcome.failure.message,
        outcome.failure.code,
        this.options.headers,
      );
    }
  }

  private settleConverted(outcome: FlightOutcome): void {
    const { protocol, request, pacing, headers } = this.options;
    if (outcome.kind === 'failed') {
      sendError(
        this.res,
        protocol.family,
        outcome.failure.status,
        outcome.failure.message,
        outcome.failure.code,
        headers,
      );
      return;
    }
    if (outcome.verdict.storable && !entryServes(outcome.verdict.entry, request) && this.options.onUnserved) {
      this.options.onUnserved();
      return;
    }
    if (outcome.verdict.storable) {
      sendReplay(
        this.res,
        planReplay(protocol, outcome.verdict.entry, request, pacing),
        headers,
        this.options.onBytes,
      );
      return;
    }
    if (outcome.head.status !== 200 && outcome.body) {
      // An upstream error reaches every joiner as it was.
      this.res.writeHead(outcome.head.status, { ...outcome.head.headers, ...headers });
      this.res.end(outcome.body);
      return;
    }
    sendError(
      this.res,
      protocol.family,
      502,
      `the upstream answer was incomplete (${outcome.verdict.reason}); retry the request`,
      'upstream_incomplete',
      headers,
    );
  }

  private writeHeadIfPending(): void {
    const head = this.pendingHead;
    if (!head) return;
    this.pendingHead = undefined;
    const stream = head.status === 200 ? streamResponseHeaders(head.contentType) : {};
    this.res.writeHead(head.status, { ...head.headers, ...stream, ...this.options.headers });
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

/** Send a replay plan: one write when instant, paced writes otherwise (stopped if the client leaves). */
export function sendReplay(
  res: ServerResponse,
  plan: ReplayPlan,
  headers: OutgoingHttpHeaders,
  onBytes: (count: number) => void,
): void {
  const { frames, delaysMs } = plan;
  const stream = isStreamContentType(plan.contentType);
  const answerHeaders = { ...headers, ...streamResponseHeaders(plan.contentType), 'content-type': plan.contentType };
  if (!delaysMs) {
    const body = frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames);
    res.writeHead(200, stream ? answerHeaders : { ...answerHeaders, 'content-length': body.byteLength });
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
