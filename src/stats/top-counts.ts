/**
 * Hit counts per name (model, namespace, entry key) in bounded memory. Names come from clients,
 * so the table is capped: when full, the less-hit half is forgotten and counting goes on. The
 * leaders of a long run survive; a flood of one-off names cannot grow the map.
 */
export class TopCounts<V = undefined> {
  readonly #max: number;
  readonly #items = new Map<string, { count: number; value: V }>();

  constructor(max = 1000) {
    this.#max = max;
  }

  get size(): number {
    return this.#items.size;
  }

  add(name: string, value: V, amount = 1): void {
    const item = this.#items.get(name);
    if (item) {
      item.count += amount;
      item.value = value;
      return;
    }
    if (this.#items.size >= this.#max) this.#prune();
    this.#items.set(name, { count: amount, value });
  }

  /**
   * Count `name` once more, its value made by `make(source, kept)` (a function made once, not per
   * call: this runs on every cache hit), which may return the kept value when it is still right.
   */
  addFrom<S>(name: string, source: S, make: (source: S, kept: V | undefined) => V): void {
    const item = this.#items.get(name);
    if (item) {
      item.count++;
      item.value = make(source, item.value);
      return;
    }
    if (this.#items.size >= this.#max) this.#prune();
    this.#items.set(name, { count: 1, value: make(source, undefined) });
  }

  /** The `n` most counted, most first; ties keep the order names first appeared in. */
  top(n: number): Array<{ name: string; count: number; value: V }> {
    return [...this.#items.entries()]
      .map(([name, item]) => ({ name, count: item.count, value: item.value }))
      .sort((a, b) => b.count - a.count)
      .slice(0, n);
  }

  #prune(): void {
    const sorted = [...this.#items.entries()].sort((a, b) => a[1].count - b[1].count);
    for (const [name] of sorted.slice(0, Math.ceil(sorted.length / 2))) this.#items.delete(name);
  }
}
