import { readFileSync } from 'node:fs';
import { cosine } from '../../src/semantic/types.js';
import type { Embedder } from '../../src/semantic/types.js';
import { vetoSignature } from '../../src/semantic/veto.js';

/**
 * Labelled pairs from a file, for measuring on public data (never committed here): JSONL, one
 * `{"a": ..., "b": ..., "label": 0 | 1}` per line (an optional `slice`, e.g. `random` or
 * `hardneg`, is reported apart), or a JSON array of `{"origin", "similar"}` paraphrase pairs
 * (GPTCache's mock_data.json), all labelled 1.
 */
export interface LabelledPair {
  a: string;
  b: string;
  label: 0 | 1;
  slice: string;
}

export function readPairs(path: string): LabelledPair[] {
  const text = readFileSync(path, 'utf8');
  if (text.trimStart().startsWith('[')) {
    const array = JSON.parse(text) as Array<{ origin?: unknown; similar?: unknown }>;
    return array
      .filter((p) => typeof p.origin === 'string' && typeof p.similar === 'string')
      .map((p) => ({ a: p.origin as string, b: p.similar as string, label: 1, slice: 'paraphrases' }));
  }
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      const p = JSON.parse(line) as { a?: unknown; b?: unknown; label?: unknown; slice?: unknown };
      if (typeof p.a !== 'string' || typeof p.b !== 'string' || (p.label !== 0 && p.label !== 1)) {
        throw new Error(`${path}:${i + 1}: want {"a": string, "b": string, "label": 0 | 1}`);
      }
      return { a: p.a, b: p.b, label: p.label, slice: typeof p.slice === 'string' ? p.slice : 'all' };
    });
}

export interface ScoredPair {
  pair: LabelledPair;
  similarity: number;
  /** The veto tells the two texts apart: never a hit, whatever the similarity. */
  vetoed: boolean;
}

/** Each pair on its own (one namespace per pair): b is looked up against a stored a. */
export async function scorePairs(pairs: readonly LabelledPair[], embedder: Embedder): Promise<ScoredPair[]> {
  const scored: ScoredPair[] = [];
  for (const pair of pairs) {
    const [a, b] = [await embedder.embed(pair.a), await embedder.embed(pair.b)];
    const vetoed = vetoSignature(pair.a, embedder.vetoTerms?.(pair.a)) !== vetoSignature(pair.b, embedder.vetoTerms?.(pair.b));
    scored.push({ pair, similarity: cosine(a, b), vetoed });
  }
  return scored;
}

export interface Verdicts {
  pairs: number;
  positives: number;
  negatives: number;
  truePositives: number;
  falsePositives: number;
  /** Positives the veto turned down although their similarity reached the threshold. */
  vetoedPositives: number;
  precision: number;
  recall: number;
  falseHitRate: number;
}

export function verdicts(scored: readonly ScoredPair[], threshold: number): Verdicts {
  let tp = 0;
  let fp = 0;
  let vetoedPositives = 0;
  let positives = 0;
  for (const s of scored) {
    if (s.pair.label === 1) positives++;
    if (s.similarity < threshold) continue;
    if (s.vetoed) {
      if (s.pair.label === 1) vetoedPositives++;
      continue;
    }
    if (s.pair.label === 1) tp++;
    else fp++;
  }
  const negatives = scored.length - positives;
  return {
    pairs: scored.length,
    positives,
    negatives,
    truePositives: tp,
    falsePositives: fp,
    vetoedPositives,
    precision: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    recall: positives > 0 ? tp / positives : Number.NaN,
    falseHitRate: negatives > 0 ? fp / negatives : Number.NaN,
  };
}
