import { EventEmitter } from 'node:events';
import { openSync, writeSync, writev } from 'node:fs';

/**
 * Where the gateway's log lines go (pino's lines and the access lines): a bounded, asynchronous
 * writer to a file descriptor. Each line is encoded as it comes into the batch's buffer, and the
 * batch is written with one syscall per `batchBytes` (or every `flushMs`), off the event loop. At
 * most `maxBytes` wait (the batch, plus the one being written): past that a line is dropped and a
 * 'drop' event emitted (DESIGN.md rule 6: a stalled stdout costs lines, never memory without
 * bound); 'drain' follows once a write made room. A failed write loses its batch and is never
 * thrown.
 *
 * Why not pino's SonicBoom: it measures the UTF-8 length of its whole pending batch on every line,
 * and gathering lines in one string is no better: flattening a string made of thousands of pieces
 * costs microseconds per line (bench:access-log). A line encoded at once into a buffer costs the
 * encoding only.
 */
export class LineDestination extends EventEmitter {
  readonly #fd: number;
  readonly #maxBytes: number;
  readonly #batchBytes: number;
  /** Full buffers of the batch, and the one lines are encoded into. */
  #full: Buffer[] = [];
  #buffer: Buffer | undefined;
  #used = 0;
  #pendingBytes = 0;
  /** Bytes of the batch a write is working on (counted against the bound until it is done). */
  #writingBytes = 0;
  #writing = false;
  #dropped = false;
  #flushed: Array<(err?: Error | null) => void> = [];

  constructor(dest: number | string, options: { maxBytes: number; batchBytes: number; flushMs: number }) {
    super();
    this.#fd = typeof dest === 'number' ? dest : openSync(dest, 'a');
    this.#maxBytes = options.maxBytes;
    this.#batchBytes = Math.max(1, Math.min(options.batchBytes, options.maxBytes));
    if (options.flushMs > 0) setInterval(() => this.#writeOut(), options.flushMs).unref();
  }

  /** Queue a line (with its newline); false when it was dropped. */
  write(line: string): boolean {
    // line.length is the line's UTF-8 size for ASCII, and a lower bound otherwise.
    if (this.#pendingBytes + this.#writingBytes + line.length > this.#maxBytes) {
      this.#dropped = true;
      this.emit('drop', line);
      return false;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const room = line.length * 3;
    let buffer = this.#buffer;
    if (!buffer || buffer.byteLength - this.#used < room) {
      if (buffer && this.#used > 0) this.#full.push(buffer.subarray(0, this.#used));
      buffer = this.#buffer = Buffer.allocUnsafe(Math.max(this.#batchBytes, room));
      this.#used = 0;
    }
    const bytes = buffer.write(line, this.#used);
    this.#used += bytes;
    this.#pendingBytes += bytes;
    if (!this.#writing && this.#pendingBytes >= this.#batchBytes) this.#writeOut();
    return true;
  }

  /** Write what is pending now; `cb` once it is written (or the write failed). */
  flush(cb?: (err?: Error | null) => void): void {
    if (cb) {
      if (!this.#writing && this.#pendingBytes === 0) {
        cb();
        return;
      }
      this.#flushed.push(cb);
    }
    this.#writeOut();
  }

  /**
   * At exit, with no event loop left: what is pending, written synchronously. A batch an
   * asynchronous write holds is that write's to finish (or lose, if the process ends first).
   */
  flushSync(): void {
    for (const buffer of this.#takeBatch()) {
      try {
        writeSync(this.#fd, buffer);
      } catch {
        return; // A destination that cannot take it now (EAGAIN on a full pipe) loses the last lines.
      }
    }
  }

  /** The pending buffers, taken out of the batch (lines after this go to a new buffer). */
  #takeBatch(): Buffer[] {
    const batch = this.#full;
    if (this.#buffer && this.#used > 0) batch.push(this.#buffer.subarray(0, this.#used));
    this.#full = [];
    this.#buffer = undefined;
    this.#used = 0;
    this.#pendingBytes = 0;
    return batch;
  }

  #writeOut(): void {
    if (this.#writing || this.#pendingBytes === 0) return;
    const bytes = this.#pendingBytes;
    this.#writing = true;
    this.#writingBytes = bytes;
    this.#writeBuffers(this.#takeBatch(), bytes);
  }

  #writeBuffers(buffers: Buffer[], total: number): void {
    writev(this.#fd, buffers, (err, written) => {
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') {
        // A non-blocking pipe that is full: try again shortly (the bound keeps the backlog in check).
        setTimeout(() => this.#writeBuffers(buffers, total), 10).unref();
        return;
      }
      if (!err && written < total) {
        // A short write (a pipe): the rest, as one buffer.
        this.#writeBuffers([Buffer.concat(buffers).subarray(written)], total - written);
        return;
      }
      this.#writing = false;
      this.#writingBytes = 0;
      const waiting = this.#flushed.splice(0);
      if (this.#pendingBytes >= this.#batchBytes || (waiting.length > 0 && this.#pendingBytes > 0)) {
        // More came meanwhile: the callers of flush() wait for it too.
        this.#flushed.push(...waiting);
        this.#writeOut();
        return;
      }
      for (const cb of waiting) cb(err);
      if (this.#dropped) {
        this.#dropped = false;
        this.emit('drain');
      }
    });
  }
}
