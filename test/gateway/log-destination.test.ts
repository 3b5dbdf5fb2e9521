import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LineDestination } from '../../src/gateway/log-destination.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-log-destination-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flushed = (destination: LineDestination) =>
  new Promise<void>((resolve, reject) => destination.flush((err) => (err ? reject(err) : resolve())));

describe('LineDestination', () => {
  test('writes every line, in order, in batches, and flush() waits for the last of them', async () => {
    const file = join(dir, 'ordered.log');
    const destination = new LineDestination(file, { maxBytes: 1024 * 1024, batchBytes: 1000, flushMs: 0 });
    const lines = Array.from({ length: 500 }, (_, i) => `{"n":${i},"text":"é ${'x'.repeat(i % 50)}"}\n`);
    for (const line of lines) expect(destination.write(line)).toBe(true);
    await flushed(destination);
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
  });

  test('past its bound a line is dropped with a drop event, and drain follows once the backlog is written', async () => {
    const fifo = join(dir, 'stalled.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const filler = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    let prefilled = 0;
    try {
      for (;;) prefilled += writeSync(filler, Buffer.alloc(4096, 'z'));
    } catch {
      // EAGAIN: the pipe is full, so the destination's (blocking) write waits for the reader.
    }
    closeSync(filler);
    const destination = new LineDestination(fifo, { maxBytes: 1000, batchBytes: 100, flushMs: 0 });
    const dropped: string[] = [];
    destination.on('drop', (line: string) => dropped.push(line));
    const drained = new Promise<void>((resolve) => destination.once('drain', () => resolve()));
    const line = (i: number) => `line ${String(i).padStart(4, '0')} ${'y'.repeat(40)}\n`;
    const kept: string[] = [];
    for (let i = 0; i < 100; i++) if (destination.write(line(i))) kept.push(line(i));
    // 50 bytes a line against a bound of 1000: at most 20 wait, the rest are dropped, never queued.
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(dropped.length).toBe(100 - kept.length);
    let read = '';
    const buffer = Buffer.alloc(64 * 1024);
    const drain = () => {
      for (;;) {
        try {
          const n = readSync(reader, buffer);
          if (n <= 0) return;
          read += buffer.subarray(0, n).toString('latin1');
        } catch {
          return; // EAGAIN: nothing more for now.
        }
      }
    };
    const reading = setInterval(drain, 5);
    try {
      await drained;
      await flushed(destination);
      drain();
      expect(read.slice(prefilled)).toBe(kept.join(''));
      // With room again, new lines are taken.
      expect(destination.write(line(100))).toBe(true);
    } finally {
      clearInterval(reading);
      await flushed(destination);
      drain();
      closeSync(reader);
    }
  });

  test('a process that exits right after logging still writes the lines waiting for their batch (the gateway logger on stdout)', () => {
    const script = `
      import { createLogger } from './src/gateway/logger.ts';
      const logger = createLogger('info');
      for (let i = 0; i < 500; i++) logger.info({ i }, 'line');
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status).toBe(0);
    const numbers = child.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(numbers).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
