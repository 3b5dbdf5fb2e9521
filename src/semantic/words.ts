/**
 * Tokenization shared by the lexical embedder and the veto, so that both read a text the same way.
 */

/** Words that carry little of what a prompt asks: "can you give me a recipe" asks what "give a recipe" asks. */
export const FUNCTION_WORDS = new Set(
  (
    'a an the is are was were be been am please me my i you your we our can could would will shall ' +
    'do does did just kindly tell give of to for in on at by with and or so that this these those ' +
    'it its what whats how why which who whom some any there here as from into about'
  ).split(' '),
);

/** The words that say what kind of answer is wanted: "Why are X?" is not "Are X?". */
export const QUESTION_WORDS = new Set('what how why which who whom whose when where whether'.split(' '));

/**
 * The words of a text: accents folded, lower case, split on anything that is not a letter or a
 * digit, except that
 *  - symbols that end a name stay in it: C++, C#, F# are not C and F;
 *  - an apostrophe joins (don't -> dont) and a possessive 's goes (what's -> what, Venezuela's ->
 *    venezuela);
 *  - an acronym that would read as a function word keeps its capitals (IT, US, WHO, AM), unless
 *    the whole text is in capitals, where capitals say nothing.
 */
export function lexicalWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/(?<=[\p{L}\p{N}])['’]s\b/giu, '')
    .replace(/(?<=[\p{L}\p{N}])['’](?=[\p{L}])/gu, '');
  const shouting = folded === folded.toUpperCase();
  const words = folded.match(/[\p{L}\p{N}]+(?:\+\+|\+|#)?/gu) ?? [];
  return words.map((word) => {
    const lower = word.toLowerCase();
    const acronym = !shouting && word.length > 1 && word === word.toUpperCase() && word !== lower;
    return acronym && FUNCTION_WORDS.has(lower) ? word : lower;
  });
}

/**
 * Names: runs of capitalised words that do not start a sentence (France, New Zealand, World
 * Cup), lower-cased, in the order they first appear. None in an all-capitals text.
 */
export function properNouns(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '');
  if (folded === folded.toUpperCase()) return [];
  const names: string[] = [];
  let run: string[] = [];
  let runEnd = -1;
  const endRun = () => {
    const name = run.join(' ');
    if (name && !names.includes(name)) names.push(name);
    run = [];
  };
  for (const match of folded.matchAll(/[\p{L}][\p{L}\p{N}]*/gu)) {
    const word = match[0];
    const at = match.index;
    const first = word[0] as string;
    const before = folded.slice(0, at).trimEnd();
    const startsSentence = before === '' || /[.?!:;\n"“(]$/u.test(before);
    const functional = FUNCTION_WORDS.has(word.toLowerCase()) && word !== word.toUpperCase();
    const name = first !== first.toLowerCase() && word !== 'I' && !startsSentence && !functional;
    // A run continues over one space only: "New Zealand" is one name, "France, Ecuador" two.
    if (!name || folded.slice(runEnd, at) !== ' ') endRun();
    if (name) {
      run.push(word.toLowerCase());
      runEnd = at + word.length;
    }
  }
  endRun();
  return names;
}
