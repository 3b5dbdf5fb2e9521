import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/**
 * Linux `perf` over one server process, for bench:profile's BENCH_PERF mode. Where a V8
 * `.cpuprofile` samples the main thread's JavaScript only (and books the time the thread is
 * descheduled inside a native call, such as writev waking the load generator, to that call),
 * perf samples every thread of the process, the kernel included, at a fixed CPU-time rate: the
 * per-request figures it gives add up to what the process costs the machine. JIT frames are
 * named when the process runs with --perf-basic-prof-only-functions.
 */

export function perfAvailable(): boolean {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface PerfRecording {
  /** Stops recording (SIGINT) and waits for perf to write its file. */
  stop(): Promise<void>;
}

/** Starts `perf record` on a process; timestamps are CLOCK_MONOTONIC, so a window can be cut with monotonicSeconds(). */
export async function startPerf(pid: number, file: string): Promise<PerfRecording> {
  const child: ChildProcess = spawn('perf', ['record', '-k', 'CLOCK_MONOTONIC', '-g', '-p', String(pid), '-o', file], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // perf needs a moment to attach to every thread; samples before that are only lost, never wrong.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** CLOCK_MONOTONIC now, in seconds: the clock perf stamps samples with under `-k CLOCK_MONOTONIC`. */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

export interface PerfRow {
  /** Where the code lives: `node`, `[kernel.kallsyms]`, `libc.so.6`, `JIT` (V8's generated code). */
  dso: string;
  symbol: string;
  nanos: number;
}

export interface PerfProfile {
  totalNanos: number;
  rows: PerfRow[];
  /** CPU time of the process's main thread (the event loop); the rest is V8's and libuv's helpers. */
  mainThreadNanos: number;
}

/** Reads a recording, keeping only samples between `from` and `to` (monotonic seconds). */
export function readPerf(file: string, pid: number, from: number, to: number): PerfProfile {
  const time = `${from.toFixed(6)},${to.toFixed(6)}`;
  const report = (sort: string) =>
    spawnSync('perf', ['report', '-i', file, '--time', time, '--no-children', '--sort', sort, '--stdio', '-g', 'none', '-t', '\t'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }).stdout;
  const bySymbol = report('dso,sym');
  const total = /# Event count \(approx\.\): (\d+)/.exec(bySymbol);
  const totalNanos = total ? Number(total[1]) : 0;
  const rows: PerfRow[] = [];
  for (const line of bySymbol.split('\n')) {
    if (line.startsWith('#')) continue;
    const [share, dso, symbol] = line.split('\t');
    if (share === undefined || dso === undefined || symbol === undefined) continue;
    const percent = Number.parseFloat(share);
    if (!Number.isFinite(percent)) continue;
    const place = dso.trim();
    rows.push({
      dso: place.startsWith('[JIT]') ? 'JIT' : place,
      symbol: symbol.replace(/^\[.\]\s*/, '').trim(),
      nanos: (percent / 100) * totalNanos,
    });
  }
  let mainThreadNanos = 0;
  for (const line of report('pid').split('\n')) {
    const [share, thread] = line.split('\t');
    if (share === undefined || thread === undefined || line.startsWith('#')) continue;
    if (thread.trim().startsWith(`${pid}:`)) mainThreadNanos += (Number.parseFloat(share) / 100) * totalNanos;
  }
  return { totalNanos, rows, mainThreadNanos };
}

/** What kind of work a sample was, by where its code lives. */
export function category(row: PerfRow): string {
  const { dso, symbol } = row;
  if (dso === 'JIT') return symbol.startsWith('JS:') ? 'JavaScript (optimized or baseline code)' : 'JavaScript (unnamed JIT code)';
  if (dso.startsWith('[kernel')) return 'kernel (syscalls, TCP, wake-ups)';
  if (/compiler::|Compile|Turbofan|Maglev/.test(symbol)) return 'V8 compiler';
  if (/Scaveng|Heap|GC|Evacuat|Mark|Sweep|RecordWrite|FreeList/.test(symbol)) return 'V8 garbage collector';
  if (/IC_|IC$|ICTrampoline/.test(symbol)) return 'V8 inline caches (property access misses)';
  if (/String/.test(symbol)) return 'V8 strings (hashing, flattening, concatenation)';
  if (dso.startsWith('libc')) return 'libc (malloc, memcpy)';
  if (symbol.startsWith('Builtins_')) return 'V8 builtins (other)';
  return 'node and V8 runtime (other)';
}
