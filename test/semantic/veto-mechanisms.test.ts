import { describe, expect, it } from 'vitest';
import { LexicalEmbedder, lexicalWords } from '../../src/semantic/lexical-embedder.js';
import { vetoSignature } from '../../src/semantic/veto.js';

/**
 * Cases from the public QQP hard negatives that passed the veto (issue 26), and the mechanism
 * each one points at. `veto` is the guard every embedder gets; `lexical` adds the lexical
 * embedder's own content-word terms.
 */
const lexical = new LexicalEmbedder();
const veto = (a: string, b: string) => vetoSignature(a) !== vetoSignature(b);
const lexicalVeto = (a: string, b: string) =>
  vetoSignature(a, lexical.vetoTerms(a)) !== vetoSignature(b, lexical.vetoTerms(b));

describe('the veto, for every embedder', () => {
  it.each([
    // Symbols that are part of a name: C++, C#, F#, .NET are not C, F or NET.
    ['What are the pros and cons of learning C++ as a first programming language?', 'What are the pros and cons of learning C# as a first programming language?'],
    ['What is the scope after mastering c++ language?', 'What is the scope after Mastering C language?'],
    ['Is F# worth learning?', 'Is F worth learning?'],
    ['How do I deploy a .NET app?', 'How do I deploy a NET app?'],
    // An acronym that reads as a function word when lower-cased.
    ['Which is the best university to do distance MBA in India?', 'Which is the best university to do distance MBA in IT in India?'],
    ['Is it hard to get a job?', 'Is IT hard to get a job in?'],
    // Question words: what is asked, not only about what.
    ['Why are all Trump supporters ignorant?', 'Are all Trump supporters ignorant?'],
    ['Do jellyfish change color?', 'How do jellyfish change color?'],
    ['Can I learn about SEO here?', 'How can I learn about SEO here?'],
    ['Is semantic web the future?', 'What is the future of the semantic web?'],
    // Proper nouns in another order: who plays whom.
    [
      'What does the France World Cup team need to do to win its last group match against Ecuador?',
      'What does the Ecuador World Cup team need to do to win its last group match against France?',
    ],
    ['Is Paris bigger than London?', 'Is London bigger than Paris?'],
  ])('%s ≠ %s', (a, b) => {
    expect(veto(a, b)).toBe(true);
    expect(lexicalVeto(a, b)).toBe(true);
  });

  it.each([
    ['How do I reverse a list in Python?', 'how do i reverse a list in python'],
    ['How do I reverse a list in Python?', 'In Python, how do I reverse a list?'],
    ['How do I reverse a list in Python?', 'can you tell me how to reverse a list in python please'],
    ["What's the capital of France?", 'What is the capital of France?'],
    ['Which is the best book to learn Python?', 'What is the best book to learn Python?'],
    ['Is it safe to eat raw eggs?', 'is it safe to eat raw eggs'],
    ['Which is better for web apps, Python or Ruby?', 'which is better for web apps, Python or Ruby?'],
    ["What are Venezuela's main exports?", 'What are the main exports of Venezuela?'],
    ['I love C++. How do I learn templates?', 'I love C++! How do I learn templates?'],
  ])('%s = %s', (a, b) => {
    expect(veto(a, b)).toBe(false);
    expect(lexicalVeto(a, b)).toBe(false);
  });
});

describe('lexical tokenization', () => {
  it('keeps the symbols of a name and tells an acronym from a function word', () => {
    expect(lexicalWords('C++ vs C# vs C')).toEqual(['c++', 'vs', 'c#', 'vs', 'c']);
    expect(lexicalWords('Is IT a good career? Is it?')).toEqual(['is', 'IT', 'a', 'good', 'career', 'is', 'it']);
    // Shouting is not an acronym: an all-capitals text reads as lower case.
    expect(lexicalWords('IS IT A GOOD CAREER')).toEqual(['is', 'it', 'a', 'good', 'career']);
    expect(lexical.vetoTerms('Is IT a good career?')).toContain('IT');
  });
});
