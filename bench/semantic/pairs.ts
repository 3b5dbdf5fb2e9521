/**
 * A labelled set of prompt pairs for `npm run bench:semantic`. `same: true` means the stored
 * answer to `a` is a correct answer to `b`. The negatives are deliberately close: a negation, a
 * changed number, swapped or changed entities, a changed quoted string or identifier.
 */
export type PairKind =
  | 'near-duplicate'
  | 'paraphrase'
  | 'negation'
  | 'changed-number'
  | 'swapped-entities'
  | 'changed-entity'
  | 'changed-detail';

export interface Pair {
  kind: PairKind;
  same: boolean;
  a: string;
  b: string;
}

const near = (a: string, b: string): Pair => ({ kind: 'near-duplicate', same: true, a, b });
const para = (a: string, b: string): Pair => ({ kind: 'paraphrase', same: true, a, b });
const diff = (kind: Exclude<PairKind, 'near-duplicate' | 'paraphrase'>, a: string, b: string): Pair => ({
  kind,
  same: false,
  a,
  b,
});

export const PAIRS: Pair[] = [
  // Case, punctuation, whitespace, word order, filler, typos.
  near('How do I reverse a list in Python?', 'how do i reverse a list in python'),
  near('What is the capital of France?', 'what is the capital of france??'),
  near('Explain quantum entanglement simply.', 'Explain quantum entanglement  simply'),
  near('Write a haiku about autumn leaves', 'write a haiku about autumn leaves please'),
  near('In Python, how do I read a file line by line?', 'How do I read a file line by line in Python?'),
  near('What are the health benefits of green tea?', 'What are the health benefits of green tee?'),
  near('Give me a recipe for banana bread', 'Can you give me a recipe for banana bread?'),
  near('Summarize the plot of Hamlet', 'summarise the plot of Hamlet'),
  near('How does a refrigerator work?', 'How does a refridgerator work?'),
  near('Tips for improving sleep quality', 'tips for improving sleep quality!'),
  near('What is the difference between TCP and UDP?', 'Whats the difference between TCP and UDP'),
  near('Translate "thank you" into Japanese', 'Please translate "thank you" into Japanese'),
  near('Recommend a good science fiction book', 'Recommend me a good science-fiction book'),
  near('Why is the sky blue?', 'why is the sky blue'),
  near('How to center a div in CSS', 'How do I center a div in CSS?'),
  near('List the planets of the solar system', 'List the planets in the solar system'),
  near('What causes inflation in an economy?', 'What causes inflation in the economy?'),
  near('Explain how vaccines train the immune system', 'explain how vaccines train the immune system.'),
  near('Best way to learn a new language as an adult', 'best way to learn a new language as an adult?'),
  near('How long should I boil an egg for a soft yolk?', 'How long should I boil an egg for a soft yolk'),
  // Paraphrases: same question, different words.
  para('Describe how photosynthesis works', 'Explain how photosynthesis works'),
  para('How do I purchase a used car safely?', 'How do I buy a used car safely?'),
  para('What is a quick way to cool down a room?', 'What is a fast way to cool down a room?'),
  para('How do plants make their food?', 'Explain how plants produce their food'),
  para('What does an API gateway do?', 'What is the purpose of an API gateway?'),
  para('Ways to reduce stress at work', 'How can I lower stress at work?'),
  para('Is it safe to eat raw cookie dough?', 'Can I safely eat raw cookie dough?'),
  para('How do I begin running as a beginner?', 'How do I start running as a beginner?'),
  para('What is the boiling point of water at sea level?', 'At sea level, at what temperature does water boil?'),
  para('Give me ideas for a birthday party', 'Suggest some birthday party ideas'),
  // Negations.
  diff('negation', 'Is coffee bad for your health?', 'Is coffee not bad for your health?'),
  diff('negation', 'Should I use tabs for indentation?', "Shouldn't I use tabs for indentation?"),
  diff('negation', 'Foods that are safe for dogs', 'Foods that are not safe for dogs'),
  diff('negation', 'Why does my code work?', 'Why does my code not work?'),
  diff('negation', 'Can I take ibuprofen with alcohol?', 'Can I never take ibuprofen with alcohol?'),
  diff('negation', 'Reasons to learn Rust', 'Reasons not to learn Rust'),
  // Changed numbers.
  diff('changed-number', 'What is 12 × 7?', 'What is 12 × 8?'),
  diff('changed-number', 'Convert 100 Fahrenheit to Celsius', 'Convert 10 Fahrenheit to Celsius'),
  diff('changed-number', 'Write a 5 line poem about the sea', 'Write a 50 line poem about the sea'),
  diff('changed-number', 'What happened in 1969?', 'What happened in 1968?'),
  diff('changed-number', 'Plan a 3 day trip to Rome', 'Plan a 7 day trip to Rome'),
  diff('changed-number', 'Is 97 a prime number?', 'Is 91 a prime number?'),
  // Swapped entities: same words, other meaning.
  diff('swapped-entities', 'Is Paris bigger than London?', 'Is London bigger than Paris?'),
  diff('swapped-entities', 'Convert euros to dollars', 'Convert dollars to euros'),
  diff('swapped-entities', 'Translate this from English to Spanish: good night', 'Translate this from Spanish to English: good night'),
  diff('swapped-entities', 'Did Edison work for Tesla?', 'Did Tesla work for Edison?'),
  diff('swapped-entities', 'Why do cats chase dogs?', 'Why do dogs chase cats?'),
  diff('swapped-entities', 'Is Python faster than Java?', 'Is Java faster than Python?'),
  // Changed entities: one word changes the subject.
  diff('changed-entity', 'What is the capital of France?', 'What is the capital of Spain?'),
  diff('changed-entity', 'Who wrote Hamlet?', 'Who wrote Macbeth?'),
  diff('changed-entity', 'How do I reverse a list in Python?', 'How do I reverse a list in JavaScript?'),
  diff('changed-entity', 'Health benefits of green tea', 'Health benefits of black tea'),
  diff('changed-entity', 'Describe how photosynthesis works', 'Describe how respiration works'),
  diff('changed-entity', 'What is the population of Canada?', 'What is the population of Australia?'),
  // Changed details: quoted strings, URLs, identifiers.
  diff('changed-detail', 'Translate "good morning" to French', 'Translate "good night" to French'),
  diff('changed-detail', 'Summarize https://example.com/a', 'Summarize https://example.com/b'),
  diff('changed-detail', 'What does getUserName return?', 'What does getUserId return?'),
  diff('changed-detail', 'Explain the max_retries option', 'Explain the max_timeout option'),
];
