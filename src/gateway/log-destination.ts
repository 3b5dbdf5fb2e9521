import { EventEmitter } from 'node:events';
import { openSync, writeSync, writev } from 'node:fs';

/** How many times flushSync tries a full non-blocking pipe again before it gives up (exit must not hang). */
const EXIT_EAGAIN_TRIES = 100;

/**
 * Where the gateway's log lines go (pino's lines and the access lines): a bounded, asynchronous
 * writer to a file descriptor. Each line is encoded as it comes into the batch's buffer, and the
 * batch is written with one syscall per `batchBytes` (or every `flushMs`), off the event loop. About
 * `maxBytes` wait at most (the batch, plus the one being written): past that a line is dropped and
 * a 'drop' event emitted (DESIGN.md rule 6: a stalled stdout costs lines, never memory without
 * bound); 'drain' follows once a write made room. A failed write loses its batch and is never
 * thrown. A non-blocking pipe that is full (EAGAIN) or takes part of a batch is written again.
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
  /** What is left of the batch while a full non-blocking pipe is waited for (not in the kernel's hands). */
  #held: Buffer[] | undefined;
  #dropped = false;
  /** Bytes accepted, and bytes whose write is over (written or lost), since the start. */
  #accepted = 0;
  #settled = 0;
  /** Callbacks of flush(), each waiting for the bytes accepted before it to be settled. */
  #flushed: Array<{ upTo: number; cb: (err?: Error | null) => void }> = [];

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
    this.#accepted += bytes;
    if (!this.#writing && this.#pendingBytes >= this.#batchBytes) this.#writeOut();
    return true;
  }

  /** Write what is pending now; `cb` once every line accepted before this call is written (or lost). */
  flush(cb?: (err?: Error | null) => void): void {
    if (cb) {
      if (this.#settled >= this.#accepted) {
        cb();
        return;
      }
      this.#flushed.push({ upTo: this.#accepted, cb });
    }
    this.#writeOut();
  }

  /**
   * At exit, with no event loop left: what waits is written synchronously, a batch held for a full
   * pipe first. While the kernel holds a batch (an asynchronous write in progress), nothing is: the
   * lines behind it are lost rather than written out of order, or blocking the exit on a stalled sink.
   */
  flushSync(): void {
    if (this.#writing && !this.#held) return;
    const buffers = [...(this.#held ?? []), ...this.#takeBatch()];
    this.#held = undefined;
    let tries = 0;
    for (const buffer of buffers) {
      let offset = 0;
      while (offset < buffer.byteLength) {
        try {
          offset += writeSync(this.#fd, buffer, offset);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > EXIT_EAGAIN_TRIES) return;
        }
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

  /** Write `buffers` (`left` bytes in all) until they are written or a write fails. */
  #writeBuffers(buffers: Buffer[], left: number): void {
    writev(this.#fd, buffers, (err, written) => {
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') {
        this.#hold(buffers, left);
        return;
      }
      if (!err && written < left) {
        // A short write (a pipe): the rest, as one buffer, once the pipe takes more.
        this.#hold([Buffer.concat(buffers).subarray(written)], left - written);
        return;
      }
      this.#written(err);
    });
  }

  /** A full non-blocking pipe: try again shortly (the bound keeps the backlog in check; flushSync writes what is held). */
  #hold(buffers: Buffer[], left: number): void {
    this.#held = buffers;
    setTimeout(() => {
      if (this.#held !== buffers) return; // Written at exit meanwhile.
      this.#held = undefined;
      this.#writeBuffers(buffers, left);
    }, 10).unref();
  }

  /** A batch is over (written, or lost to a failed write: the process goes on). */
  #written(err: Error | null): void {
    this.#settled += this.#writingBytes;
    this.#writing = false;
    this.#writingBytes = 0;
    const done = this.#flushed.filter((f) => f.upTo <= this.#settled);
    if (done.length > 0) this.#flushed = this.#flushed.filter((f) => f.upTo > this.#settled);
    if (this.#pendingBytes >= this.#batchBytes || this.#flushed.length > 0) this.#writeOut();
    for (const { cb } of done) cb(err);
    if (this.#dropped && !this.#writing) {
      this.#dropped = false;
      this.emit('drain');
    }
  }
}
