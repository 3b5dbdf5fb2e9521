import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LineDestination } from '../../src/gateway/log-destination.js';
import { stalledFifo } from '../helpers/stalled-fifo.js';

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
    const fifo = stalledFifo(dir);
    const destination = new LineDestination(fifo.path, { maxBytes: 1000, batchBytes: 100, flushMs: 0 });
    const dropped: string[] = [];
    destination.on('drop', (line: string) => dropped.push(line));
    const drained = new Promise<void>((resolve) => destination.once('drain', () => resolve()));
    const line = (i: number) => `line ${String(i).padStart(4, '0')} ${'y'.repeat(40)}\n`;
    const kept: string[] = [];
    for (let i = 0; i < 100; i++) if (destination.write(line(i))) kept.push(line(i));
    // 50 bytes a line against a bound of 1000: at most 20 wait, the rest are dropped, never queued.
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(dropped.length).toBe(100 - kept.length);
    const reading = setInterval(() => fifo.drain(), 5);
    try {
      await drained;
      await flushed(destination);
      expect(fifo.drain().slice(fifo.prefilled)).toBe(kept.join(''));
      // With room again, new lines are taken.
      expect(destination.write(line(100))).toBe(true);
    } finally {
      clearInterval(reading);
      await flushed(destination);
      fifo.drain();
      fifo.close();
    }
  });

  test('on a non-blocking pipe, full (EAGAIN) or taking part of a batch, every line arrives once, in order, and flush waits for it', async () => {
    const fifo = stalledFifo(dir, 'nonblocking.fifo');
    const fd = openSync(fifo.path, constants.O_WRONLY | constants.O_NONBLOCK);
    const destination = new LineDestination(fd, { maxBytes: 4 * 1024 * 1024, batchBytes: 4096, flushMs: 0 });
    const lines = Array.from({ length: 3000 }, (_, i) => `{"n":${String(i).padStart(5, '0')},"pad":"${'p'.repeat(80)}"}\n`);
    const reading = setInterval(() => fifo.drain(), 2);
    try {
      for (const line of lines) expect(destination.write(line)).toBe(true);
      // 300 KB through a 64 KiB pipe that starts full: writes meet EAGAIN and short writes on the way.
      await flushed(destination);
      expect(fifo.drain().slice(fifo.prefilled)).toBe(lines.join(''));
    } finally {
      clearInterval(reading);
      closeSync(fd);
      fifo.close();
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
