/**
 * The semantic layer's small contracts: an embedder turns the last user text into a unit
 * vector; an index finds stored vectors close to it inside one hard partition.
 */

import { codedError } from '../errors.js';

/** Who produced a vector. Vectors of different identities are never compared. */
export interface EmbedderIdentity {
  type: 'lexical' | 'openai';
  model: string;
  /**
   * Known up front for `lexical`; for `openai` the configured one, or else the length of the
   * first vector returned, after which any other length is an EMBEDDER_BAD_RESPONSE.
   */
  dimension: number | undefined;
}

export interface Embedder {
  readonly identity: EmbedderIdentity;
  /**
   * A unit-length vector for `text`. Throws SemanticError (EMBEDDER_TIMEOUT, EMBEDDER_FAILED)
   * on failure; the layer turns that into an exact-only request.
   */
  embed(text: string, signal?: AbortSignal): Promise<Float32Array>;
  /**
   * Terms that must be equal for two texts to share an answer, on top of the lexical veto: what
   * this embedder cannot tell apart by its vectors alone. Absent: nothing beyond the veto.
   */
  vetoTerms?(text: string): string[];
  close?(): Promise<void>;
}

export type SemanticErrorCode =
  | 'EMBEDDER_TIMEOUT'
  | 'EMBEDDER_FAILED'
  | 'EMBEDDER_BAD_RESPONSE'
  /** The embedder's circuit breaker is open: recent calls failed, this one was not made. */
  | 'EMBEDDER_CIRCUIT_OPEN'
  | 'INDEX_UNAVAILABLE';

export class SemanticError extends codedError<SemanticErrorCode>('SemanticError') {}

/** What the index keeps per stored answer: enough to purge, expire and veto without the prompt. */
export interface RowMeta {
  /** The exact cache key of the entry this row points at. */
  key: string;
  namespace: string;
  tags: string[];
  /** Epoch ms; the row is dead after this (the entry's own expiry). */
  expiresAt: number;
  /** Hash of the lexical veto features of the embedded text (see veto.ts). */
  veto: string;
}

export interface IndexRow extends RowMeta {
  vector: Float32Array;
}

export interface IndexMatch {
  meta: RowMeta;
  similarity: number;
}

/** Dot product of two unit vectors: their cosine similarity. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** Scale in place to unit length (a zero vector stays zero: it matches nothing). */
export function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += (vector[i] as number) ** 2;
  if (norm === 0) return vector;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}
