import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const STATS = [
  ['min', 'The minimum event loop delay since the previous scrape that saw one'],
  ['max', 'The maximum event loop delay since the previous scrape that saw one'],
  ['mean', 'The mean event loop delay since the previous scrape that saw one'],
  ['stddev', 'The standard deviation of the event loop delay since the previous scrape that saw one'],
  ['p50', 'The 50th percentile of the event loop delay since the previous scrape that saw one'],
  ['p90', 'The 90th percentile of the event loop delay since the previous scrape that saw one'],
  ['p99', 'The 99th percentile of the event loop delay since the previous scrape that saw one'],
] as const;

type Stat = (typeof STATS)[number][0];

/**
 * Event-loop delay gauges that only report real samples. prom-client's own read an empty
 * histogram (min 9223372036.85 s, mean NaN) whenever two scrapes fall within one sampling
 * interval, or before the first sample. Here a scrape with no new samples repeats the last
 * measured values, and the gauges have no sample line at all until something was measured.
 * Replaces `<prefix>nodejs_eventloop_lag_{min,max,...}_seconds` registered by collectDefaultMetrics.
 */
export function registerEventLoopDelay(registry: Registry, prefix: string): void {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let last: Record<Stat, number> | undefined;
  const sample = () => {
    if (histogram.count === 0) return;
    last = {
      min: histogram.min / 1e9,
      max: histogram.max / 1e9,
      mean: histogram.mean / 1e9,
      stddev: histogram.stddev / 1e9,
      p50: histogram.percentile(50) / 1e9,
      p90: histogram.percentile(90) / 1e9,
      p99: histogram.percentile(99) / 1e9,
    };
    histogram.reset();
  };
  STATS.forEach(([stat, help], index) => {
    const name = `${prefix}nodejs_eventloop_lag_${stat}_seconds`;
    registry.removeSingleMetric(name);
    const gauge = new Gauge({
      name,
      help,
      registers: [registry],
      // The first gauge takes the sample; the others read it in the same scrape.
      collect() {
        if (index === 0) sample();
        if (last) this.set(last[stat]);
      },
    });
    const get = gauge.get.bind(gauge);
    gauge.get = async () => {
      const metric = await get();
      return last ? metric : { ...metric, values: [] };
    };
  });
}
