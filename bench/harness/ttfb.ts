import { Agent, request } from 'undici';

/**
 * Time to first byte of the body, the figure a streaming user feels: from sending the request
 * to the first body chunk (not the headers, which a gateway could send before any content).
 * Requests are sequential, one keep-alive connection per target, so queueing does not blur it.
 */

export interface TtfbTarget {
  name: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface TtfbResult {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

/**
 * Measures every target `samples` times after `warmup` rounds, alternating targets request by
 * request, so load that comes and goes on a shared machine hits all of them alike.
 */
export async function measureTtfb(
  targets: TtfbTarget[],
  options: { warmup: number; samples: number },
): Promise<Map<string, TtfbResult>> {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  const times = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  try {
    for (let round = 0; round < options.warmup + options.samples; round++) {
      for (const target of targets) {
        const elapsed = await timeFirstChunk(agent, target);
        if (round >= options.warmup) times.get(target.name)?.push(elapsed);
      }
    }
  } finally {
    await agent.close();
  }
  const out = new Map<string, TtfbResult>();
  for (const [name, values] of times) {
    const sorted = values.sort((a, b) => a - b);
    out.set(name, {
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      samples: sorted.length,
    });
  }
  return out;
}

async function timeFirstChunk(agent: Agent, target: TtfbTarget): Promise<number> {
  const started = performance.now();
  const response = await request(target.url, {
    method: 'POST',
    body: target.body,
    headers: target.headers,
    dispatcher: agent,
  });
  let firstAt = -1;
  for await (const _chunk of response.body) {
    if (firstAt < 0) firstAt = performance.now();
  }
  if (response.statusCode !== 200) throw new Error(`${target.name}: status ${response.statusCode}`);
  return (firstAt < 0 ? performance.now() : firstAt) - started;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}
