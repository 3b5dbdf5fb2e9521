import { availableParallelism, cpus, loadavg } from 'node:os';
import { cpuPerRequest } from './cpu.js';
import type { LoadResult } from './load.js';
import type { TtfbResult } from './ttfb.js';

/** Printing only: every figure next to its baseline from the same run, never an assertion. */

export function heading(text: string): void {
  console.log(`\n== ${text}`);
}

const fmt = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

export function ratio(contender: number, baseline: number): string {
  return `${fmt(contender / baseline, 2)}x`;
}

function problems(result: LoadResult): string {
  const bad = result.errors + result.timeouts + result.non2xx;
  return bad === 0
    ? ''
    : `  (!) errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}`;
}

/** One table: the first row is the baseline, each later row shows its ratios against it. */
export function printLoadTable(rows: Array<{ name: string; result: LoadResult }>): void {
  const base = rows[0]?.result;
  if (!base) return;
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const { name, result } of rows) {
    const isBase = result === base;
    const rps = `${fmt(result.requestsPerSecond, 0).padStart(7)} req/s ${isBase ? '(base)' : `${ratio(result.requestsPerSecond, base.requestsPerSecond).padStart(6)}`}`;
    const p50 = `p50 ${fmt(result.p50Ms, 1).padStart(6)} ms ${isBase ? '' : `(${ratio(result.p50Ms, base.p50Ms)})`}`;
    const p99 = `p99 ${fmt(result.p99Ms, 1).padStart(6)} ms ${isBase ? '' : `(${ratio(result.p99Ms, base.p99Ms)})`}`;
    console.log(
      `  ${name.padEnd(width)}  ${rps}  ${p50.padEnd(22)} ${p99.padEnd(22)} n=${result.total}${problems(result)}`,
    );
    if (Object.keys(result.cpuSeconds).length > 0) {
      console.log(`  ${''.padEnd(width)}  cpu: ${cpuPerRequest(result.cpuSeconds, result.total)}`);
    }
  }
}

/** TTFB rows with the added time (contender p50 minus baseline p50) and ratios. */
export function printTtfbTable(rows: Array<{ name: string; result: TtfbResult }>): void {
  const base = rows[0]?.result;
  if (!base) return;
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const { name, result } of rows) {
    const isBase = result === base;
    const added = isBase
      ? '(base)'
      : `added p50 ${signed(result.p50Ms - base.p50Ms)} ms, p99 ${signed(result.p99Ms - base.p99Ms)} ms (${ratio(result.p50Ms, base.p50Ms)} p50)`;
    console.log(
      `  ${name.padEnd(width)}  p50 ${fmt(result.p50Ms, 3).padStart(7)} ms  p99 ${fmt(result.p99Ms, 3).padStart(7)} ms  ${added}  n=${result.samples}`,
    );
  }
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${fmt(value, 3)}`;
}

export function goal(label: string, reached: boolean, detail: string): void {
  console.log(`  goal ${label}: ${reached ? 'REACHED' : 'NOT reached'} (${detail})`);
}

/** Printed at the top of every run: results only mean something next to the box they came from. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `node ${process.version}, ${availableParallelism()} cores (${cpu}), load average ${load}`;
}
