import { type Embedder, type EmbedderIdentity, normalize } from './types.js';
import { FUNCTION_WORDS, lexicalWords } from './words.js';

export { lexicalWords } from './words.js';

/**
 * The built-in offline embedder: feature hashing of character trigrams (inside words, so word
 * order does not move them), whole words (function words down-weighted) and adjacent pairs of
 * content words, L2-normalised.
 *
 * Honestly a near-duplicate detector: it forgives case, punctuation, whitespace, word order
 * and small edits (typos, an added "please"), because those leave most features in place. It
 * knows nothing of meaning: "car" and "automobile" share no feature. Paraphrases that reuse
 * the words match; paraphrases that change them do not. Use the `openai` embedder for those.
 */

export const LEXICAL_DIMENSION = 512;
export const LEXICAL_MODEL = 'lexical-v1';

const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.35;
/**
 * Function words weigh little: "can you give me a recipe" asks what "give a recipe" asks. They
 * still count a bit, so "what" and "why" are not the same question.
 */
const FUNCTION_WORD_FACTOR = 0.2;
/**
 * Adjacent pairs of content words carry order, so "is Paris bigger than London" and its mirror
 * differ (same words, swapped entities); pairs skip function words so that moving "in Python"
 * from the end to the front changes little, and are made of word skeletons (see skeleton). Weights chosen on bench/semantic/pairs.ts and
 * checked on the held-out set (bench/RESULTS.md).
 */
const PAIR_WEIGHT = 1.5;


export class LexicalEmbedder implements Embedder {
  readonly identity: EmbedderIdentity;
  readonly #dimension: number;

  constructor(dimension = LEXICAL_DIMENSION) {
    this.#dimension = dimension;
    this.identity = { type: 'lexical', model: LEXICAL_MODEL, dimension };
  }

  async embed(text: string): Promise<Float32Array> {
    return this.embedSync(text);
  }

  embedSync(text: string): Float32Array {
    const vector = new Float32Array(this.#dimension);
    let previous: string | undefined;
    for (const word of lexicalWords(text)) {
      const functional = FUNCTION_WORDS.has(word);
      const factor = functional ? FUNCTION_WORD_FACTOR : 1;
      this.#add(vector, `w:${word}`, WORD_WEIGHT * factor);
      const padded = ` ${word} `;
      for (let j = 0; j + 3 <= padded.length; j++) {
        this.#add(vector, `c:${padded.slice(j, j + 3)}`, TRIGRAM_WEIGHT * factor);
      }
      if (functional) continue;
      const key = skeleton(word);
      if (previous !== undefined) this.#add(vector, `p:${previous} ${key}`, PAIR_WEIGHT);
      previous = key;
    }
    return normalize(vector);
  }

  /**
   * The set of content-word skeletons. Hashed n-grams score a prompt with one content word
   * swapped ("the plot of Hamlet" / "of Macbeth") at 0.8-0.9 once the prompt is long, which no
   * threshold separates from a typo. A near-duplicate uses the same content words up to case,
   * order, function words and vowel typos, so their skeletons must be the same set.
   */
  vetoTerms(text: string): string[] {
    const terms = new Set<string>();
    for (const word of lexicalWords(text)) if (!FUNCTION_WORDS.has(word)) terms.add(skeleton(word));
    return [...terms].sort();
  }

  #add(vector: Float32Array, feature: string, weight: number): void {
    const hash = fnv1a(feature);
    // The sign bit comes from the hash too, so collisions cancel out on average instead of piling up.
    const index = (hash >>> 1) % this.#dimension;
    vector[index] = (vector[index] as number) + (hash & 1 ? weight : -weight);
  }
}

/**
 * A word without its vowels and doubled letters ("interest" and "intrest" -> "ntrst"), so that
 * the common typo does not break the pairs it is part of.
 */
function skeleton(word: string): string {
  const consonants = word.replace(/[aeiouy]/g, '').replace(/(.)\1+/g, '$1');
  return consonants.length > 0 ? consonants : word;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
