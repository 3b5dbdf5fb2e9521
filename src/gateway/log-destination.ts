import { EventEmitter } from 'node:events';
import { openSync, write, writeSync } from 'node:fs';

/**
 * Where the gateway's log lines go (pino's lines and the access lines): a bounded, asynchronous
 * writer to a file descriptor. Lines are appended to one pending string and written in batches,
 * one syscall per `batchChars` (or every `flushMs`), off the event loop. At most `maxChars` wait
 * (pending, plus the batch being written): past that a line is dropped and a 'drop' event emitted
 * (DESIGN.md rule 6: a stalled stdout costs lines, never memory without bound); 'drain' follows
 * once the backlog is written. A failed write loses its batch and is never thrown.
 *
 * Why not pino's SonicBoom: it measures the UTF-8 length of its whole pending batch on every line,
 * which flattens an ever longer string: about 3 µs per access line on a cache hit (bench:profile),
 * against a length check here. The bound counts UTF-16 code units, the unit V8 keeps the lines in.
 */
export class LineDestination extends EventEmitter {
  readonly #fd: number;
  readonly #maxChars: number;
  readonly #batchChars: number;
  #pending = '';
  /** Characters of the batch a write is working on (counted against the bound until it is done). */
  #writingChars = 0;
  #writing = false;
  #dropped = false;
  #flushed: Array<(err?: Error | null) => void> = [];
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(dest: number | string, options: { maxChars: number; batchChars: number; flushMs: number }) {
    super();
    this.#fd = typeof dest === 'number' ? dest : openSync(dest, 'a');
    this.#maxChars = options.maxChars;
    this.#batchChars = Math.min(options.batchChars, options.maxChars);
    if (options.flushMs > 0) {
      this.#timer = setInterval(() => this.#writeOut(), options.flushMs);
      this.#timer.unref();
    }
  }

  /** Queue a line (with its newline); false when it was dropped. */
  write(line: string): boolean {
    if (this.#pending.length + this.#writingChars + line.length > this.#maxChars) {
      this.#dropped = true;
      this.emit('drop', line);
      return false;
    }
    this.#pending += line;
    if (!this.#writing && this.#pending.length >= this.#batchChars) this.#writeOut();
    return true;
  }

  /** Write what is pending now; `cb` once it is written (or the write failed). */
  flush(cb?: (err?: Error | null) => void): void {
    if (cb) {
      if (!this.#writing && this.#pending.length === 0) {
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
    if (this.#pending.length === 0) return;
    const text = this.#pending;
    this.#pending = '';
    try {
      writeSync(this.#fd, text);
    } catch {
      // A destination that cannot take it now (EAGAIN on a full pipe) loses the last lines.
    }
  }

  #writeOut(): void {
    if (this.#writing || this.#pending.length === 0) return;
    const text = this.#pending;
    this.#pending = '';
    this.#writing = true;
    this.#writingChars = text.length;
    this.#writeBytes(Buffer.from(text), 0);
  }

  #writeBytes(bytes: Buffer, offset: number): void {
    write(this.#fd, bytes, offset, bytes.byteLength - offset, null, (err, written) => {
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') {
        // A non-blocking pipe that is full: try again shortly (the bound keeps the backlog in check).
        setTimeout(() => this.#writeBytes(bytes, offset), 10).unref();
        return;
      }
      if (!err && offset + written < bytes.byteLength) {
        this.#writeBytes(bytes, offset + written);
        return;
      }
      this.#writing = false;
      this.#writingChars = 0;
      // A destination that failed (EPIPE: stdout closed) loses this batch; the process goes on.
      const waiting = this.#flushed.splice(0);
      if (this.#pending.length >= this.#batchChars || (waiting.length > 0 && this.#pending.length > 0)) {
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
