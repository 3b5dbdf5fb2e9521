import { createHash } from 'node:crypto';
import { lexicalWords, properNouns, QUESTION_WORDS } from './words.js';

/**
 * The lexical veto: similar wording is not enough when the details differ. Two texts may share
 * an answer only if they contain the same sets of numbers, quoted strings, URLs, code-like
 * identifiers and negation markers. "What is 12 × 7?" never answers "What is 12 × 8?", and
 * "Is X safe?" never answers "Is X not safe?" (negation is our addition to the list: embeddings
 * of both kinds put a sentence and its negation close together).
 *
 * Measured on public data (QQP hard negatives, bench/RESULTS.md), four more kinds of detail that
 * embeddings blur and that change the answer:
 *  - names that end in symbols (C++, C#, F#, .NET), which tokenizers cut down to C, F, NET;
 *  - acronyms that read as function words once lower-cased (IT, US, WHO);
 *  - question words: "Why are X?", "Are X?" and "What are X?" ask for different answers;
 *  - the order of proper nouns when there are several: France against Ecuador is not Ecuador
 *    against France. (One name alone has no order, so "in python" and "in Python" still agree.)
 *
 * Only a hash of the features is kept in the index, so no prompt text is stored there.
 */

export interface VetoFeatures {
  numbers: string[];
  quoted: string[];
  urls: string[];
  identifiers: string[];
  negations: string[];
  questionWords: string[];
  acronyms: string[];
  /** Proper nouns in order of appearance, when there are two or more. */
  names: string[];
}

const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s"'<>`]+/giu;
const QUOTED_PATTERNS = [
  /"([^"\n]+)"/gu,
  /“([^”\n]+)”/gu,
  /`([^`\n]+)`/gu,
  /‘([^’\n]+)’/gu,
  // Single quotes only when they stand apart from letters, so "don't" is not a quote.
  /(?<![\p{L}\p{N}])'([^'\n]+)'(?![\p{L}\p{N}])/gu,
];
const NUMBER_PATTERN = /\d+(?:[.,]\d+)*/gu;
const IDENTIFIER_PATTERNS = [
  /\b[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+\b/gu, // dotted: os.path.join, obj.method
  /\b[a-z]+[A-Z][\w$]*\b/gu, // camelCase
  /\b[A-Z][a-z0-9]+[A-Z][\w$]*\b/gu, // PascalCase with inner capitals: HashMap
  /\b[A-Za-z$][\w$]*_[\w$]+\b/gu, // snake_case, SCREAMING_CASE
  /\b[A-Za-z_$][\w$]*(?=\()/gu, // calls: print(
  /(?<!\w)--?[a-z][\w-]*/gu, // command-line flags
];
/** Names whose symbols are part of them, compared in lower case: C++, c#, F#, .NET. */
const SYMBOL_NAME_PATTERNS = [/(?<![\w.+#])[A-Za-z][\w]*(?:\+\+|#)(?![\w+#])/gu, /(?<![\w.])\.[A-Za-z][\w]*\b/gu];
const NEGATION_PATTERN = /\b(?:not|no|never|none|nobody|nothing|neither|nor|cannot|without)\b|n['’]t\b/giu;

export function vetoFeatures(text: string): VetoFeatures {
  let rest = text;
  const urls = take(rest, URL_PATTERN, (m) => m[0].replace(/[.,;:!?)]+$/u, '').toLowerCase());
  rest = rest.replace(URL_PATTERN, ' ');
  const quoted: string[] = [];
  for (const pattern of QUOTED_PATTERNS) {
    quoted.push(...take(rest, pattern, (m) => (m[1] ?? '').trim()));
    rest = rest.replace(pattern, ' ');
  }
  const identifiers: string[] = [];
  for (const pattern of IDENTIFIER_PATTERNS) identifiers.push(...take(rest, pattern, (m) => m[0]));
  for (const pattern of SYMBOL_NAME_PATTERNS) identifiers.push(...take(rest, pattern, (m) => m[0].toLowerCase()));
  const words = lexicalWords(rest);
  // "Which is the best X" and "What is the best X" ask the same; so do who and whom.
  const questionWords = words
    .map((w) => (w === 'whats' || w === 'which' ? 'what' : w === 'whom' ? 'who' : w))
    .filter((w) => QUESTION_WORDS.has(w));
  const acronyms = words.filter((w) => w !== w.toLowerCase());
  const names = properNouns(rest);
  // Thousands separators are formatting: 1,000 and 1000 are the same number.
  const numbers = take(rest, NUMBER_PATTERN, (m) => m[0].replace(/,(?=\d{3}\b)/gu, ''));
  const negations = take(rest, NEGATION_PATTERN, (m) => (/^n['’]t$/u.test(m[0]) ? 'not' : m[0].toLowerCase()));
  return {
    numbers: sortedSet(numbers),
    quoted: sortedSet(quoted),
    urls: sortedSet(urls),
    identifiers: sortedSet(identifiers),
    negations: sortedSet(negations.map((n) => (n === 'cannot' ? 'not' : n))),
    questionWords: sortedSet(questionWords),
    acronyms: sortedSet(acronyms),
    names: names.length >= 2 ? names : [],
  };
}

/**
 * Equal signatures exactly when all the features are equal, and the embedder's own veto
 * terms (Embedder.vetoTerms) too.
 */
export function vetoSignature(text: string, embedderTerms: readonly string[] = []): string {
  const f = vetoFeatures(text);
  const canonical = JSON.stringify([
    f.numbers,
    f.quoted,
    f.urls,
    f.identifiers,
    f.negations,
    f.questionWords,
    f.acronyms,
    f.names,
    embedderTerms,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

function take(text: string, pattern: RegExp, pick: (match: RegExpMatchArray) => string): string[] {
  return [...text.matchAll(pattern)].map(pick).filter((s) => s.length > 0);
}

function sortedSet(values: string[]): string[] {
  return [...new Set(values)].sort();
}
