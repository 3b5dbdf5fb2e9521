import { LRUCache } from 'lru-cache';
import type { CacheEntry } from '../cache/entry.js';

/**
 * Forms derived from an entry on a hit: the JSON assembled from a stream entry, the stream
 * synthesized from a JSON entry (with or without usage), the stream with its usage stripped.
 * They are pure functions of the (immutable) entry, so they are kept between hits; a synthesized
 * stream is often 30x its JSON entry, so they live in their own LRU bounded by bytes (DESIGN.md
 * rule 6), never outside any budget.
 */

/** Frames of a derived answer as one buffer and the end offset of each frame in it. */
export interface DerivedForm {
  body: Uint8Array;
  ends: Uint32Array;
  /** Recorded offset (ms) of each frame, for realtime pacing; absent for a synthesized stream. */
  times?: Float64Array | undefined;
}

export type DerivedKind = 'assembled' | 'synthesized' | 'synthesized-usage' | 'stripped';

/** What an item costs besides its bytes: the form object, its typed arrays' headers, the key. */
const ITEM_OVERHEAD_BYTES = 256;

export function derivedSize(form: DerivedForm): number {
  return form.body.byteLength + form.ends.byteLength + (form.times?.byteLength ?? 0) + ITEM_OVERHEAD_BYTES;
}

/** One form from frames: concatenated once, so that a form of 400 events is 2 buffers, not 400. */
export function formOf(frames: readonly Uint8Array[], times?: readonly number[]): DerivedForm {
  const ends = new Uint32Array(frames.length);
  let total = 0;
  frames.forEach((frame, i) => {
    total += frame.byteLength;
    ends[i] = total;
  });
  const body = Buffer.concat(frames, total);
  return { body, ends, times: times ? Float64Array.from(times) : undefined };
}

/** The form's frames, as views of its body. */
export function framesOf(form: DerivedForm): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let start = 0;
  for (const end of form.ends) {
    frames.push(form.body.subarray(start, end));
    start = end;
  }
  return frames;
}

export class DerivedForms {
  /**
   * Keyed by an id per entry object, not by the entry: the cache must not keep an entry alive
   * after L1 dropped it. A dead entry's forms are unreachable and age out of the LRU.
   */
  readonly #lru: LRUCache<string, DerivedForm>;
  readonly #ids = new WeakMap<CacheEntry, number>();
  #nextId = 0;

  constructor(readonly maxBytes: number) {
    this.#lru = new LRUCache<string, DerivedForm>({ maxSize: maxBytes, sizeCalculation: derivedSize });
  }

  /** The form, computed by `make` on first use; one larger than the whole budget is not kept. */
  get(entry: CacheEntry, kind: DerivedKind, make: () => DerivedForm): DerivedForm {
    let id = this.#ids.get(entry);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(entry, id);
    }
    const key = `${id}:${kind}`;
    let form = this.#lru.get(key);
    if (!form) {
      form = make();
      if (derivedSize(form) <= this.maxBytes) this.#lru.set(key, form);
    }
    return form;
  }

  /** Bytes held, as counted against maxBytes. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
