import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/semantic/options.js';
import { LexicalEmbedder } from '../../src/semantic/lexical-embedder.js';
import { cosine } from '../../src/semantic/types.js';
import { vetoFeatures, vetoSignature } from '../../src/semantic/veto.js';

const lexical = new LexicalEmbedder();
const sim = (a: string, b: string) => cosine(lexical.embedSync(a), lexical.embedSync(b));

describe('lexical embedder', () => {
  it('gives unit vectors of its declared dimension, the same for the same text', () => {
    const v = lexical.embedSync('How do I reverse a list in Python?');
    expect(v).toHaveLength(lexical.identity.dimension ?? -1);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(lexical.embedSync('How do I reverse a list in Python?')).toEqual(v);
  });

  it('forgives case, punctuation, whitespace, accents and small edits', () => {
    const base = 'How do I reverse a list in Python?';
    expect(sim(base, 'how do i reverse a list in python')).toBeCloseTo(1, 5);
    expect(sim(base, '  How  do I reverse a list in Python ?!  ')).toBeCloseTo(1, 5);
    expect(sim('Résumé tips for engineers', 'resume tips for engineers')).toBeCloseTo(1, 5);
    expect(sim(base, 'How do I reverse a lst in Python?')).toBeGreaterThan(DEFAULT_THRESHOLDS.lexical);
    expect(sim(base, 'can you tell me how to reverse a list in python please')).toBeGreaterThan(DEFAULT_THRESHOLDS.lexical);
    expect(sim(base, 'In Python, how do I reverse a list?')).toBeGreaterThan(DEFAULT_THRESHOLDS.lexical);
  });

  it('word pairs keep swapped entities below the default threshold, though the words are the same', () => {
    expect(sim('Is Paris bigger than London?', 'Is London bigger than Paris?')).toBeLessThan(DEFAULT_THRESHOLDS.lexical);
    expect(sim('Convert euros to dollars', 'Convert dollars to euros')).toBeLessThan(DEFAULT_THRESHOLDS.lexical);
  });

  it('keeps unrelated texts far apart', () => {
    expect(sim('How do I reverse a list in Python?', 'Write a haiku about autumn leaves')).toBeLessThan(0.3);
    expect(sim('What is the capital of France?', 'Explain quantum entanglement simply')).toBeLessThan(0.3);
  });

  it('an empty text embeds to the zero vector, which matches nothing', () => {
    expect(sim('', 'anything')).toBe(0);
  });
});

describe('lexical content-word veto', () => {
  // Hashed n-grams score a one-word substitution in a long prompt high (0.8-0.9): the embedder's
  // own veto terms (content-word skeletons) keep such pairs apart at any threshold.
  const terms = (text: string) => lexical.vetoTerms(text).join(' ');
  it.each([
    ['Summarize the plot of Hamlet in a few paragraphs for a student', 'Summarize the plot of Macbeth in a few paragraphs for a student'],
    ['Write a Python function that sorts a list of dictionaries by key', 'Write a JavaScript function that sorts a list of dictionaries by key'],
    ['Write an email to my manager asking for a day off next Friday', 'Write an email to my manager asking for a raise next Friday'],
    ['Explain the difference between a process and a thread', 'Explain the difference between a process and a program'],
  ])('%s ≠ %s', (a, b) => {
    expect(terms(a)).not.toBe(terms(b));
  });
  it.each([
    ['How do I reverse a list in Python?', 'how do i reverse a list in python'],
    ['How do I reverse a list in Python?', 'In Python, how do I reverse a list?'],
    ['How do I reverse a list in Python?', 'can you tell me how to reverse a list in python please'],
    ['How do I reverse a list in Python?', 'How do I reverse a lst in Python?'],
  ])('%s = %s', (a, b) => {
    expect(terms(a)).toBe(terms(b));
  });
});

describe('lexical veto', () => {
  it('collects numbers, quoted strings, URLs, identifiers and negations', () => {
    const f = vetoFeatures(
      'Does `os.path.join` in https://docs.python.org/3/ handle "C:\\\\tmp" with max_retries=3? Don\'t use camelCase or 1,000',
    );
    expect(f.urls).toEqual(['https://docs.python.org/3/']);
    expect(f.quoted).toEqual(expect.arrayContaining(['os.path.join', 'C:\\\\tmp']));
    expect(f.numbers).toEqual(['1000', '3']);
    expect(f.identifiers).toEqual(expect.arrayContaining(['max_retries', 'camelCase']));
    expect(f.negations).toEqual(['not']);
  });

  it.each([
    ['What is 12 × 7?', 'What is 12 × 8?'],
    ['Translate "good morning" to French', 'Translate "good night" to French'],
    ['Summarize https://example.com/a', 'Summarize https://example.com/b'],
    ['What does getUserName return?', 'What does getUserId return?'],
    ['Is coffee bad for you?', 'Is coffee not bad for you?'],
    ['Can I mix bleach and vinegar?', "Can't I mix bleach and vinegar?"],
  ])('tells %j from %j', (a, b) => {
    expect(vetoSignature(a)).not.toBe(vetoSignature(b));
  });

  it.each([
    ['What is 12 × 7?', 'what is 12 x 7'],
    ['Translate "good morning" to French', 'translate "good morning" into french please'],
    ['Is coffee not bad?', "Isn't coffee bad?"],
    ['Population of 1,000 people', 'population of 1000 people'],
  ])('lets %j match %j', (a, b) => {
    expect(vetoSignature(a)).toBe(vetoSignature(b));
  });
});
