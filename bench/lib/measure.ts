/** Tiny timing helpers for benchmark scripts. */

export interface Measurement {
  /** Median wall time of the measured runs, in milliseconds. */
  medianMs: number;
  /** What the last run returned (so the work cannot be optimized away, and can be checked). */
  result: number;
}

/**
 * Runs every contender `runs` times after `warmups` warm-up rounds, interleaved round-robin
 * (a, b, c, a, b, c, ...), and reports each one's median. Interleaving matters on a shared
 * machine: load that comes and goes then hits every contender alike, so ratios stay honest.
 */
export function measureInterleaved<Name extends string>(
  contenders: Record<Name, () => number>,
  options: { warmups: number; runs: number },
): Record<Name, Measurement> {
  const names = Object.keys(contenders) as Name[];
  const times = new Map<Name, number[]>(names.map((name) => [name, []]));
  const results = new Map<Name, number>();
  for (let round = 0; round < options.warmups + options.runs; round++) {
    for (const name of names) {
      const started = performance.now();
      results.set(name, contenders[name]());
      const elapsed = performance.now() - started;
      if (round >= options.warmups) times.get(name)?.push(elapsed);
    }
  }
  const out = {} as Record<Name, Measurement>;
  for (const name of names) {
    out[name] = { medianMs: median(times.get(name) ?? []), result: results.get(name) ?? Number.NaN };
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] ?? Number.NaN;
  return ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

export function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}
