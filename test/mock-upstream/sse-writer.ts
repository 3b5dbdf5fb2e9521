import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ClientWatch } from './client-watch.js';
import type { Knobs } from './knobs.js';
import type { SseEvent, StreamPlan } from './protocol.js';

/**
 * Plays a StreamPlan onto an HTTP response, applying the framing and failure knobs.
 * Protocols only describe the well-formed stream; every way of breaking it lives here,
 * so all five protocols break the same way.
 */

export interface WriterHooks {
  /** Called with the number of SSE events the socket accepted (write callback without error). */
  eventsWritten(count: number): void;
  /** Called just before the writer destroys the socket itself (x-mock-reset), so it is not counted as a client abort. */
  willReset(): void;
}

export function encodeEvent(event: SseEvent, newline: string): string {
  const head = event.event === undefined ? '' : `event: ${event.event}${newline}`;
  return `${head}data: ${event.data}${newline}${newline}`;
}

export async function writeStream(
  res: ServerResponse,
  plan: StreamPlan,
  knobs: Knobs,
  hooks: WriterHooks,
  watch: ClientWatch,
): Promise<void> {
  const sink = new ByteSink(res, knobs.splitBytes, hooks, watch);
  const newline = knobs.lineEnding;
  const keepalive = knobs.keepalive ? `: keep-alive${newline}${newline}` : '';
  const totalDeltas = plan.events.reduce((sum, event) => sum + (event.delta ? 1 : 0), 0);
  const errorAt = knobs.errorEvent ? Math.floor(totalDeltas / 2) : undefined;
  const stopAt = knobs.truncateAfter ?? knobs.resetAfter;
  const delayMs = knobs.endless ? Math.max(1, knobs.delayMs) : knobs.delayMs;
  const events = knobs.endless ? plan.endless() : plan.events[Symbol.iterator]();

  let deltas = 0;
  let written = 0;
  let pacedTail = false;
  for (let next = events.next(); !next.done; next = events.next()) {
    if (watch.gone) return;
    const event = next.value;
    const reachesLimit = event.delta === true || event.tail === true;
    if (reachesLimit && errorAt !== undefined && deltas >= errorAt) {
      for (const errorEvent of plan.errorEvents(written)) sink.push(encodeEvent(errorEvent, newline), 1);
      break;
    }
    if (reachesLimit && stopAt !== undefined && deltas >= stopAt) {
      if (knobs.resetAfter !== undefined && knobs.truncateAfter === undefined) {
        await sink.flush(true);
        hooks.willReset();
        res.socket?.destroy();
        res.destroy();
        return;
      }
      break;
    }
    // Pace like a model: a pause before each piece of content and before the closing events.
    const paced = event.delta === true || (event.tail === true && !pacedTail);
    if (event.tail) pacedTail = true;
    if (paced && delayMs > 0 && written > 0) {
      await sink.flush(false);
      if (!(await watch.sleep(delayMs))) return;
    }
    sink.push(encodeEvent(event, newline), 1);
    if (keepalive) sink.push(keepalive, 0);
    written++;
    if (event.delta) deltas++;
    if (knobs.doneInContent && event.delta && event.data.includes(plan.doneMarker)) break;
  }
  await sink.finish();
}

/**
 * Collects encoded events and writes them: as one write when unpaced (fast path for
 * benchmarks), or in fixed-size pieces for x-mock-split. Counts an event as written
 * only when the socket accepted the piece holding its last byte.
 */
class ByteSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queuedBytes = 0;
  private eventEnds: number[] = [];
  private acknowledgedEvents = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly splitBytes: number,
    private readonly hooks: WriterHooks,
    private readonly watch: ClientWatch,
  ) {}

  push(text: string, events: number): void {
    const bytes = Buffer.from(text, 'utf8');
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (events > 0) this.eventEnds.push(this.queuedBytes + this.pendingBytes);
  }

  /** Write everything left and end the response, in one write when possible (data + chunked terminator together). */
  async finish(): Promise<void> {
    if (this.watch.gone) return;
    if (this.splitBytes <= 0 && this.pendingBytes > 0) {
      const data = this.takePending();
      this.queuedBytes += data.length;
      const end = this.queuedBytes;
      this.res.end(data, () => this.acknowledge(end));
      return;
    }
    await this.flush(true);
    if (!this.watch.gone) this.res.end();
  }

  private takePending(): Buffer {
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return data;
  }

  /** Write what is pending; with splitting, a short remainder waits for more bytes unless `final`. */
  async flush(final: boolean): Promise<void> {
    if (this.pendingBytes === 0 || this.watch.gone) return;
    let data = this.takePending();
    if (this.splitBytes <= 0) {
      await this.write(data);
      return;
    }
    while (data.length >= this.splitBytes || (final && data.length > 0)) {
      const piece = data.subarray(0, this.splitBytes);
      data = data.subarray(piece.length);
      await this.write(piece);
      if (this.watch.gone) return;
      // Let the piece leave as its own TCP segment instead of coalescing with the next.
      await nextTurn();
    }
    if (data.length > 0) {
      this.pending.push(data);
      this.pendingBytes = data.length;
    }
  }

  private async write(piece: Buffer): Promise<void> {
    this.queuedBytes += piece.length;
    const end = this.queuedBytes;
    const accepted = this.res.write(piece, (error) => {
      if (!error) this.acknowledge(end);
    });
    if (!accepted && !this.watch.gone) await drained(this.res);
  }

  private acknowledge(byteOffset: number): void {
    let count = 0;
    while (this.acknowledgedEvents < this.eventEnds.length) {
      const end = this.eventEnds[this.acknowledgedEvents];
      if (end === undefined || end > byteOffset) break;
      this.acknowledgedEvents++;
      count++;
    }
    if (count > 0) this.hooks.eventsWritten(count);
    // Endless streams would grow this list forever; drop what is acknowledged.
    if (this.acknowledgedEvents > 1024) {
      this.eventEnds = this.eventEnds.slice(this.acknowledgedEvents);
      this.acknowledgedEvents = 0;
    }
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
