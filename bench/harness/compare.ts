import { type LoadOptions, type LoadResult, runLoad } from './load.js';
import { printLoadTable } from './report.js';

/**
 * One row of a benchmark's table: a contender against its baseline, measured side by side in the
 * same run, `repetitions` times, alternating which goes first so that load coming and going on a
 * shared machine hits both alike. The ratio reported is the median of the per-repetition ratios,
 * with their range; CPU per request is the median per process.
 */

export interface Side {
  name: string;
  load: Omit<LoadOptions, 'warmupSeconds' | 'seconds' | 'connections'>;
  /** The process whose CPU per request is this side's server cost (also listed in load.cpuOf). */
  serverName: string;
}

export interface Comparison {
  label: string;
  ratios: number[];
  medianRatio: number;
  /** Median CPU µs per request of each side's server process. */
  baselineCpuMicros: number;
  contenderCpuMicros: number;
  baseline: LoadResult[];
  contender: LoadResult[];
}

export interface CompareOptions {
  repetitions: number;
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

export async function compare(label: string, baseline: Side, contender: Side, options: CompareOptions): Promise<Comparison> {
  const base: LoadResult[] = [];
  const other: LoadResult[] = [];
  const run = (side: Side) =>
    runLoad({
      ...side.load,
      connections: options.connections,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
    });
  for (let i = 0; i < options.repetitions; i++) {
    if (i % 2 === 0) {
      base.push(await run(baseline));
      other.push(await run(contender));
    } else {
      other.push(await run(contender));
      base.push(await run(baseline));
    }
    printLoadTable([
      { name: `${baseline.name} #${i + 1}`, result: base[i] as LoadResult },
      { name: `${contender.name} #${i + 1}`, result: other[i] as LoadResult },
    ]);
  }
  const ratios = base.map((b, i) => (other[i] as LoadResult).requestsPerSecond / b.requestsPerSecond);
  const cpu = (results: LoadResult[], name: string) =>
    median(results.map((r) => ((r.cpuSeconds[name] ?? Number.NaN) / r.total) * 1e6));
  const comparison: Comparison = {
    label,
    ratios,
    medianRatio: median(ratios),
    baselineCpuMicros: cpu(base, baseline.serverName),
    contenderCpuMicros: cpu(other, contender.serverName),
    baseline: base,
    contender: other,
  };
  console.log(
    `  => ${label}: ${comparison.medianRatio.toFixed(2)}x median of ${ratios.length} (range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); server CPU ${comparison.contenderCpuMicros.toFixed(0)} µs/req vs ${comparison.baselineCpuMicros.toFixed(0)} µs/req (${(comparison.contenderCpuMicros / comparison.baselineCpuMicros).toFixed(2)}x)`,
  );
  return comparison;
}

export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The summary table every bench ends with: each row against its goal. */
export function printSummary(rows: Array<{ comparison: Comparison; goal: number; measure?: 'throughput' | 'cpu' }>): void {
  console.log('\n== summary (medians; range across repetitions)');
  for (const { comparison, goal, measure = 'throughput' } of rows) {
    const { ratios } = comparison;
    if (measure === 'cpu') {
      const value = comparison.contenderCpuMicros / comparison.baselineCpuMicros;
      console.log(
        `  ${comparison.label.padEnd(58)} ${value.toFixed(2)}x (${comparison.contenderCpuMicros.toFixed(0)} ÷ ${comparison.baselineCpuMicros.toFixed(0)} µs)  goal <= ${goal}x: ${value <= goal ? 'REACHED' : 'NOT reached'}`,
      );
      continue;
    }
    console.log(
      `  ${comparison.label.padEnd(58)} ${comparison.medianRatio.toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})  goal >= ${goal}x: ${comparison.medianRatio >= goal ? 'REACHED' : 'NOT reached'}`,
    );
  }
}
