import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import type { CacheEntry } from '../../src/cache/entry.js';
import { DerivedForms, derivedSize, formOf, framesOf } from '../../src/replay/derived.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const entry = () => ({ body: new Uint8Array(10) }) as unknown as CacheEntry;
const bytes = (n: number) => new Uint8Array(n).fill(97);

describe('DerivedForms: the LRU of forms derived on hits', () => {
  test('a form is made once per entry and kind, and its frames are views of one buffer', () => {
    const forms = new DerivedForms(1_000_000);
    const e = entry();
    let made = 0;
    const make = () => (made++, formOf([bytes(3), bytes(5)], [0, 7]));
    const a = forms.get(e, 'synthesized', make);
    expect(forms.get(e, 'synthesized', make)).toBe(a);
    expect(made).toBe(1);
    forms.get(e, 'synthesized-usage', make);
    expect(made).toBe(2);
    expect(framesOf(a).map((f) => f.byteLength)).toEqual([3, 5]);
    expect(Array.from(a.times ?? [])).toEqual([0, 7]);
    expect(forms.bytes).toBe(2 * derivedSize(a));
  });

  test('bounded by bytes: the least recently used forms go, one larger than the budget is never kept', () => {
    const forms = new DerivedForms(10_000);
    const entries = Array.from({ length: 50 }, entry);
    for (const e of entries) forms.get(e, 'assembled', () => formOf([bytes(1000)]));
    expect(forms.bytes).toBeLessThanOrEqual(10_000);
    let made = 0;
    const huge = entry();
    forms.get(huge, 'stripped', () => (made++, formOf([bytes(20_000)])));
    forms.get(huge, 'stripped', () => (made++, formOf([bytes(20_000)])));
    expect(made).toBe(2);
    expect(forms.bytes).toBeLessThanOrEqual(10_000);
  });

  test('does not keep an entry alive after the cache dropped it', async () => {
    const forms = new DerivedForms(1_000_000);
    let e: CacheEntry | undefined = entry();
    const ref = new WeakRef(e);
    forms.get(e, 'assembled', () => formOf([bytes(100)]));
    e = undefined;
    for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
  });
});
