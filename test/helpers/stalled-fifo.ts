import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A named pipe whose reader does not read yet, filled up beforehand: whatever writes to it (a
 * blocking write, as a log destination makes) waits until `drain()` reads what is there.
 */
export interface StalledFifo {
  path: string;
  /** Bytes written to fill the pipe, before anything under test wrote. */
  prefilled: number;
  /** Read what the pipe holds now; returns everything read so far, the filler's bytes included. */
  drain(): string;
  close(): void;
}

export function stalledFifo(dir: string, name = 'stalled.fifo'): StalledFifo {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const filler = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  let prefilled = 0;
  try {
    for (;;) prefilled += writeSync(filler, Buffer.alloc(4096, 'z'));
  } catch {
    // EAGAIN: the pipe is full.
  }
  closeSync(filler);
  let read = '';
  const buffer = Buffer.alloc(64 * 1024);
  return {
    path,
    prefilled,
    drain() {
      for (;;) {
        try {
          const n = readSync(reader, buffer);
          if (n <= 0) break;
          read += buffer.subarray(0, n).toString('latin1');
        } catch {
          break; // EAGAIN: nothing more for now.
        }
      }
      return read;
    },
    close: () => closeSync(reader),
  };
}
