import { readFileSync } from 'node:fs';

/**
 * CPU time spent by each process during a measurement, to explain a ratio: on a 2-core box,
 * throughput through a gateway is bounded by the CPU that the load generator, the gateway and
 * the upstream together need per request. Reads /proc/PID/stat (Linux); elsewhere reports NaN.
 */

const TICKS_PER_SECOND = 100;

function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

export interface CpuMeter {
  /** CPU seconds used by each named process since the meter started. */
  stop(): Record<string, number>;
}

export function startCpuMeter(processes: Record<string, number>): CpuMeter {
  const before = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, cpuSecondsOf(pid)]),
  );
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(processes).map(([name, pid]) => [name, cpuSecondsOf(pid) - (before[name] ?? 0)]),
      ),
  };
}

/** "mock 41 µs/req, sluice 160 µs/req, load generator 70 µs/req" */
export function cpuPerRequest(used: Record<string, number>, requests: number): string {
  return Object.entries(used)
    .map(([name, seconds]) => `${name} ${((seconds / requests) * 1e6).toFixed(0)} µs/req`)
    .join(', ');
}
