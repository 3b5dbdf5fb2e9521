/** Reading a V8 `.cpuprofile` (as written by `node --cpu-prof`): self time per function. */

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeRow {
  name: string;
  location: string;
  micros: number;
}

/**
 * Self time per function (same name and location summed over the call tree), busiest first.
 * `(idle)` is left out of the busy time; `(program)` (native work V8 does not attribute) and
 * `(garbage collector)` are kept in it.
 */
export function selfTimes(profile: CpuProfile): {
  rows: SelfTimeRow[];
  busyMicros: number;
  idleMicros: number;
  gcMicros: number;
} {
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, SelfTimeRow>();
  let busyMicros = 0;
  let idleMicros = 0;
  let gcMicros = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample: it belongs to the sample before it.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const node = nodeById.get(profile.samples[i] as number);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMicros += micros;
      continue;
    }
    if (functionName === '(garbage collector)') gcMicros += micros;
    busyMicros += micros;
    const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : 'native';
    const id = `${functionName}@${location}`;
    const row = byFunction.get(id) ?? { name: functionName || '(anonymous)', location, micros: 0 };
    row.micros += micros;
    byFunction.set(id, row);
  }
  const rows = [...byFunction.values()].sort((a, b) => b.micros - a.micros);
  return { rows, busyMicros, idleMicros, gcMicros };
}

function shortUrl(url: string): string {
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + 'node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * Inclusive time per function: each sample counts once for every distinct function on its stack,
 * so a row says how much of the busy time was spent in it or in what it called.
 */
export function totalTimes(profile: CpuProfile): SelfTimeRow[] {
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byFunction = new Map<string, SelfTimeRow>();
  for (let i = 0; i < profile.samples.length; i++) {
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parentOf.get(id)) {
      const node = nodeById.get(id);
      if (!node) break;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)' || functionName === '(root)') break;
      const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : 'native';
      const key = `${functionName}@${location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const row = byFunction.get(key) ?? { name: functionName || '(anonymous)', location, micros: 0 };
      row.micros += micros;
      byFunction.set(key, row);
    }
  }
  return [...byFunction.values()].sort((a, b) => b.micros - a.micros);
}
