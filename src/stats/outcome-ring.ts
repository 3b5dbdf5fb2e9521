/**
 * Requests by outcome over time, in fixed memory: one ring of per-minute buckets for the last
 * hour and one of per-hour buckets for the last day. A bucket is reused when its slot comes
 * round again, so nothing grows with traffic or uptime.
 */

/** Every way a cacheable request can end; ERROR is any answer with status >= 400. */
export const OUTCOMES = ['HIT', 'SEMANTIC-HIT', 'COALESCED', 'MISS', 'REFRESH', 'BYPASS', 'ERROR'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type OutcomeCounts = Record<Outcome, number>;

export function emptyCounts(): OutcomeCounts {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
}

export interface Series {
  bucketSeconds: number;
  /** Epoch ms of each bucket's start, oldest first; the last bucket is the current, partial one. */
  starts: number[];
  /** One array per outcome, aligned with `starts`. */
  counts: Record<Outcome, number[]>;
}

const INDEX: Record<Outcome, number> = Object.fromEntries(OUTCOMES.map((o, i) => [o, i])) as Record<
  Outcome,
  number
>;

export class TimeRing {
  readonly #bucketMs: number;
  readonly #size: number;
  /** Bucket number (epoch ms / bucketMs) each slot currently holds; -1 when never used. */
  readonly #bucketOf: Float64Array;
  readonly #counts: Float64Array;

  constructor(bucketMs: number, size: number) {
    this.#bucketMs = bucketMs;
    this.#size = size;
    this.#bucketOf = new Float64Array(size).fill(-1);
    this.#counts = new Float64Array(size * OUTCOMES.length);
  }

  add(outcome: Outcome, now: number, amount = 1): void {
    const bucket = Math.floor(now / this.#bucketMs);
    const slot = bucket % this.#size;
    if (this.#bucketOf[slot] !== bucket) {
      this.#bucketOf[slot] = bucket;
      this.#counts.fill(0, slot * OUTCOMES.length, (slot + 1) * OUTCOMES.length);
    }
    const i = slot * OUTCOMES.length + INDEX[outcome];
    this.#counts[i] = (this.#counts[i] ?? 0) + amount;
  }

  series(now: number): Series {
    const current = Math.floor(now / this.#bucketMs);
    const starts: number[] = [];
    const counts = Object.fromEntries(OUTCOMES.map((o) => [o, [] as number[]])) as Record<Outcome, number[]>;
    for (let bucket = current - this.#size + 1; bucket <= current; bucket++) {
      starts.push(bucket * this.#bucketMs);
      const slot = ((bucket % this.#size) + this.#size) % this.#size;
      const live = this.#bucketOf[slot] === bucket;
      for (const outcome of OUTCOMES) {
        counts[outcome].push(live ? (this.#counts[slot * OUTCOMES.length + INDEX[outcome]] ?? 0) : 0);
      }
    }
    return { bucketSeconds: this.#bucketMs / 1000, starts, counts };
  }

  /** Sum per outcome over the buckets that started within the last `windowMs`. */
  sum(now: number, windowMs: number): OutcomeCounts {
    const { starts, counts } = this.series(now);
    const total = emptyCounts();
    starts.forEach((start, i) => {
      if (start + this.#bucketMs <= now - windowMs) return;
      for (const outcome of OUTCOMES) total[outcome] += counts[outcome][i] ?? 0;
    });
    return total;
  }
}

/** Totals since start plus the two rings the dashboard draws. */
export class OutcomeHistory {
  readonly minutes = new TimeRing(60_000, 60);
  readonly hours = new TimeRing(3_600_000, 24);
  readonly totals = emptyCounts();

  record(outcome: Outcome, now = Date.now()): void {
    this.totals[outcome]++;
    this.minutes.add(outcome, now);
    this.hours.add(outcome, now);
  }
}

/**
 * Share of the requests that looked in the cache which it answered: (HIT + SEMANTIC-HIT) over
 * (HIT + SEMANTIC-HIT + COALESCED + MISS). REFRESH and BYPASS did not look; errors are left out
 * because an upstream error says nothing about the cache. Null before the first lookup.
 */
export function hitRatio(counts: OutcomeCounts): number | null {
  const hits = counts.HIT + counts['SEMANTIC-HIT'];
  const looked = hits + counts.COALESCED + counts.MISS;
  return looked === 0 ? null : hits / looked;
}
