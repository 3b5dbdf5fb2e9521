import { Counter, type CounterConfiguration } from 'prom-client';

/**
 * A Prometheus counter for the request path. prom-client hashes and validates the label object on
 * every `inc` (its bound `labels()` children too), about a microsecond each, and a cache hit made
 * five of them. Here each label set is bound once: an increment adds to a plain number, and the sums
 * are handed to prom-client whenever the registry is read (a scrape, /admin, a test), so what
 * /metrics shows is the same series with the same values.
 */
export class HotCounter<L extends string> {
  readonly counter: Counter<L>;
  readonly #labelNames: readonly L[];
  readonly #slots = new Map<string, { labels: Partial<Record<L, string>>; pending: number }>();

  constructor(config: CounterConfiguration<L> & { labelNames: readonly L[] }) {
    this.#labelNames = config.labelNames;
    const slots = this.#slots;
    this.counter = new Counter<L>({
      ...config,
      collect() {
        for (const slot of slots.values()) {
          if (slot.pending === 0) continue;
          this.inc(slot.labels, slot.pending);
          slot.pending = 0;
        }
      },
    });
  }

  /** Add `by` to the series with these label values, given in the order of `labelNames`. */
  inc(by: number, ...values: string[]): void {
    if (!(by > 0)) return;
    // Concatenated (no array join) for the usual one to three labels; the same ids as a join.
    const id =
      values.length === 1
        ? (values[0] as string)
        : values.length === 2
          ? `${values[0]}\u0001${values[1]}`
          : values.length === 3
            ? `${values[0]}\u0001${values[1]}\u0001${values[2]}`
            : values.join('\u0001');
    let slot = this.#slots.get(id);
    if (!slot) {
      const labels: Partial<Record<L, string>> = {};
      this.#labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      slot = { labels, pending: 0 };
      this.#slots.set(id, slot);
    }
    slot.pending += by;
  }
}
