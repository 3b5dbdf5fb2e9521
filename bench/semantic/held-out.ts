import type { Pair } from './pairs.js';

/**
 * Held-out pairs, written before the lexical embedder's weights were tuned on PAIRS and never
 * used for tuning: the bench reports both sets so that a tuned figure cannot pass for a general one.
 */
const near = (a: string, b: string): Pair => ({ kind: 'near-duplicate', same: true, a, b });
const para = (a: string, b: string): Pair => ({ kind: 'paraphrase', same: true, a, b });
const diff = (kind: Pair['kind'], a: string, b: string): Pair => ({ kind, same: false, a, b });

export const HELD_OUT: Pair[] = [
  near('How do I install Node.js on Ubuntu?', 'how to install node.js on ubuntu'),
  near('What are good exercises for lower back pain?', 'What are some good exercises for lower back pain'),
  near('Explain the difference between a virus and a bacterium', 'explain the difference between a virus and a bacterium.'),
  near('Suggest names for a golden retriever puppy', 'Suggest some names for a golden retriever puppy!'),
  near('How can I remove a stripped screw?', 'How can I remove a striped screw?'),
  near('What is the meaning of the word serendipity?', "What's the meaning of the word serendipity"),
  near('Write a short story about a lonely robot', 'write a short story about a lonely robot please'),
  near('When did the Roman Empire fall?', 'When did the Roman empire fall'),
  near('How do I make cold brew coffee at home?', 'At home, how do I make cold brew coffee?'),
  near('What should I pack for a beach holiday?', 'what should i pack for a beach holiday??'),
  near('Ideas for a vegetarian dinner party', 'ideas for a vegetarian dinner-party'),
  near('How does compound interest work?', 'How does compound intrest work?'),
  para('How do I fix a leaking tap?', 'How can I repair a dripping faucet?'),
  para('What is the fastest land animal?', 'Which land animal is the quickest?'),
  para('Tell me about the history of chess', 'Give me the history of chess'),
  para('How do I commence a podcast?', 'How do I begin a podcast?'),
  diff('negation', 'Is it safe to swim after eating?', 'Is it not safe to swim after eating?'),
  diff('negation', 'Things to do in Berlin', 'Things not to do in Berlin'),
  diff('negation', 'Why is my plant growing?', 'Why is my plant not growing?'),
  diff('changed-number', 'What is 15% of 80?', 'What is 15% of 90?'),
  diff('changed-number', 'Explain the events of 1914', 'Explain the events of 1939'),
  diff('changed-number', 'Give me 3 tips for public speaking', 'Give me 10 tips for public speaking'),
  diff('swapped-entities', 'Is a crocodile stronger than a lion?', 'Is a lion stronger than a crocodile?'),
  diff('swapped-entities', 'Convert kilometers to miles', 'Convert miles to kilometers'),
  diff('swapped-entities', 'Why did Britain declare war on Germany?', 'Why did Germany declare war on Britain?'),
  diff('swapped-entities', 'How do I migrate from MySQL to Postgres?', 'How do I migrate from Postgres to MySQL?'),
  diff('changed-entity', 'What is the tallest mountain in Europe?', 'What is the tallest mountain in Africa?'),
  diff('changed-entity', 'Who painted the Mona Lisa?', 'Who painted the Sistine Chapel?'),
  diff('changed-entity', 'How do I cook brown rice?', 'How do I cook wild rice?'),
  diff('changed-entity', 'Symptoms of a cold', 'Symptoms of the flu'),
  diff('changed-detail', 'What does the flag --force do?', 'What does the flag --dry-run do?'),
  diff('changed-detail', 'Explain the quote "to be or not to be"', 'Explain the quote "all the world is a stage"'),
];
