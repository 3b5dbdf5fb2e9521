import { Counter, type CounterConfiguration, type Metric, type Registry } from 'prom-client';
import { SluiceError } from '../errors.js';

/**
 * Prometheus series for the request path. prom-client hashes and validates the label object on
 * every `inc` and `observe` (its bound `labels()` children too): about a microsecond each, and a
 * cache hit made seven, a forwarded call two histogram observations. Here a label set is looked up
 * by its values in nested maps (no label object, no string built per call), the request path adds
 * to plain numbers, and prom-client sees the sums whenever the registry is read (a scrape,
 * /admin, a test): the same series with the same values.
 */

/** The slot for each list of label values, found through one Map per label (the values are mostly constants, whose hashes V8 keeps). */
class LabelSlots<S> {
  readonly #root = new Map<string, unknown>();
  readonly #all: S[] = [];

  constructor(
    private readonly depth: number,
    private readonly make: (values: readonly string[]) => S,
  ) {
    if (depth > 3) throw new SluiceError('INVALID_OPTION', `at most 3 labels, not ${depth}`, { field: 'labelNames' });
  }

  get(values: readonly string[]): S {
    if (values.length !== this.depth) {
      throw new SluiceError('INVALID_OPTION', `expected ${this.depth} label values, got ${values.length}`, { field: 'labelNames' });
    }
    return this.at(values[0], values[1], values[2]);
  }

  /** The slot for up to three label values, given as arguments: the request path's form (no array per call). */
  at(a?: string, b?: string, c?: string): S {
    const depth = this.depth;
    // A programming error (a call site with the wrong label count), caught by the first test that reaches it.
    const given = c !== undefined ? 3 : b !== undefined ? 2 : a !== undefined ? 1 : 0;
    if (given !== depth) throw new SluiceError('INVALID_OPTION', `expected ${depth} label values, got ${given}`, { field: 'labelNames' });
    let level = this.#root;
    if (depth > 1) level = this.#below(level, a as string);
    if (depth > 2) level = this.#below(level, b as string);
    const last = depth === 0 ? '' : ((depth === 1 ? a : depth === 2 ? b : c) as string);
    let slot = level.get(last) as S | undefined;
    if (slot === undefined) {
      slot = this.make([a, b, c].slice(0, depth) as string[]);
      level.set(last, slot);
      this.#all.push(slot);
    }
    return slot;
  }

  #below(level: Map<string, unknown>, value: string): Map<string, unknown> {
    let next = level.get(value) as Map<string, unknown> | undefined;
    if (!next) {
      next = new Map();
      level.set(value, next);
    }
    return next;
  }

  get all(): readonly S[] {
    return this.#all;
  }
}

function labelObject<L extends string>(names: readonly L[], values: readonly string[]): Partial<Record<L, string>> {
  const labels: Partial<Record<L, string>> = {};
  names.forEach((name, i) => {
    labels[name] = values[i] ?? '';
  });
  return labels;
}

/** One series of a HotCounter, bound once: `inc` is an addition. */
export interface HotSeries {
  inc(by?: number): void;
}

interface CounterSlot extends HotSeries {
  readonly labels: Record<string, string>;
  pending: number;
}

export class HotCounter<L extends string> {
  readonly counter: Counter<L>;
  readonly #slots: LabelSlots<CounterSlot>;

  constructor(config: CounterConfiguration<L> & { labelNames: readonly L[] }) {
    const slots = new LabelSlots<CounterSlot>(config.labelNames.length, (values) => {
      const slot: CounterSlot = {
        labels: labelObject(config.labelNames, values) as Record<string, string>,
        pending: 0,
        inc(by = 1) {
          if (by > 0) slot.pending += by;
        },
      };
      return slot;
    });
    this.#slots = slots;
    const counter = new Counter<L>({
      ...config,
      collect() {
        for (const slot of slots.all) {
          if (slot.pending === 0) continue;
          this.inc(slot.labels as Partial<Record<L, string>>, slot.pending);
          slot.pending = 0;
        }
      },
    });
    // Registry.resetMetrics() drops what was counted, the sums not yet handed over included.
    const reset = counter.reset.bind(counter);
    counter.reset = () => {
      for (const slot of slots.all) slot.pending = 0;
      reset();
    };
    this.counter = counter;
  }

  /** Add `by` to the series with these label values, given in the order of `labelNames` (at most three). */
  inc(by: number, a?: string, b?: string, c?: string): void {
    this.#slots.at(a, b, c).inc(by);
  }

  /** The series with these label values, for a caller whose labels are fixed (no lookup per call). */
  bind(...values: string[]): HotSeries {
    return this.#slots.get(values);
  }
}

export interface HotHistogramConfiguration<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
  registers: Registry[];
}

interface HistogramSlot {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative; one past the last bound is in none (+Inf is `count`). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A prom-client value as Histogram.get() gives it. */
interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A histogram with the exposition of prom-client's Histogram (the same lines in the same order),
 * registered in a prom-client Registry as one of its metrics. `observe` finds the bucket and adds.
 */
export class HotHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #buckets: readonly number[];
  readonly #labelNames: readonly L[];
  #slots: LabelSlots<HistogramSlot>;

  constructor(config: HotHistogramConfiguration<L>) {
    this.name = config.name;
    this.help = config.help;
    const buckets = [...config.buckets];
    if (buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number)))) {
      throw new SluiceError('INVALID_OPTION', `${config.name}: buckets must be finite and ascending`, { field: 'buckets' });
    }
    this.#buckets = buckets;
    this.#labelNames = config.labelNames;
    this.#slots = this.#makeSlots();
    // prom-client's Registry takes any object with the part of the Metric interface it calls (get,
    // reset, name, help, type, aggregator). It is not a prom-client Histogram (no labels(),
    // startTimer(), zero()): reach it through this class, not registry.getSingleMetric().
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  #makeSlots(): LabelSlots<HistogramSlot> {
    return new LabelSlots(this.#labelNames.length, (values) => ({
      labels: labelObject(this.#labelNames, values) as Record<string, string>,
      counts: new Float64Array(this.#buckets.length),
      sum: 0,
      count: 0,
    }));
  }

  /** Observe `value` in the series with these label values (in the order of `labelNames`, at most three). */
  observe(value: number, a?: string, b?: string, c?: string): void {
    if (!Number.isFinite(value)) return;
    const slot = this.#slots.at(a, b, c);
    const buckets = this.#buckets;
    let i = 0;
    while (i < buckets.length && value > (buckets[i] as number)) i++;
    if (i < buckets.length) slot.counts[i] = (slot.counts[i] as number) + 1;
    slot.sum += value;
    slot.count++;
  }

  /** What prom-client's Histogram.get() returns: per series, cumulative buckets, +Inf, sum, count. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const slot of this.#slots.all) {
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += slot.counts[i] as number;
        values.push({ metricName: bucketName, labels: { le, ...slot.labels }, value: cumulative });
      });
      values.push({ metricName: bucketName, labels: { le: '+Inf', ...slot.labels }, value: slot.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...slot.labels }, value: slot.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...slot.labels }, value: slot.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): no series until the next observation, as prom-client's reset does. */
  reset(): void {
    this.#slots = this.#makeSlots();
  }
}
