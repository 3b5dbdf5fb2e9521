import autocannon from 'autocannon';
import { startCpuMeter } from './cpu.js';

/**
 * autocannon, bounded in time, with a warm-up run that is thrown away (JIT, connection pools
 * and caches settle first). Runs in the bench's own process, which is the load generator.
 */

export interface LoadOptions {
  url: string;
  body?: string;
  headers: Record<string, string>;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Per-request variation (e.g. a share of unique bodies); autocannon's setupRequest. */
  setupRequest?: (req: autocannon.Request) => autocannon.Request;
  /** Processes (name → PID) whose CPU time is measured during the timed run. */
  cpuOf?: Record<string, number>;
  /**
   * A fixed offered load, in requests per second over all connections (autocannon's overallRate);
   * absent: as fast as the server answers (a closed loop).
   */
  rate?: number | undefined;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Response bytes per second. */
  throughputBytes: number;
  total: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU seconds per process during the timed run (see cpuOf). */
  cpuSeconds: Record<string, number>;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await fire(options, options.warmupSeconds);
  const meter = startCpuMeter(options.cpuOf ?? {});
  const result = await fire(options, options.seconds);
  const cpuSeconds = meter.stop();
  return {
    requestsPerSecond: result.requests.total / options.seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    throughputBytes: result.throughput.average,
    total: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    cpuSeconds,
  };
}

function fire(options: LoadOptions, seconds: number): Promise<autocannon.Result> {
  const request: autocannon.Request = { method: 'POST' };
  if (options.body !== undefined) request.body = options.body;
  if (options.setupRequest) request.setupRequest = options.setupRequest;
  return autocannon({
    url: options.url,
    method: 'POST',
    headers: options.headers,
    connections: options.connections,
    pipelining: 1,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    duration: seconds,
    requests: [request],
  });
}
