import { BROKEN, type JsonCursor, NEXT, type Step } from './json-scan.js';

/**
 * The top-level `type` of an event's JSON, read in place by the Anthropic Messages and OpenAI
 * Responses gates, whose verdicts act on a few event types only and need nothing else from the
 * many deltas between them.
 */

/**
 * Whether the text's top-level `type` (the last one, as in JSON.parse) is one of `types`,
 * compared as bytes so that no string is built for the common delta. BROKEN when the text is not
 * one valid JSON object, spells a member name or that `type` with escapes, or (with
 * `errorMustBeNull`) has a top-level `error` that is not null: the full parse then decides.
 * Afterwards typeValueStart says where that `type` string's content began.
 */
export function typeIsOneOf(cursor: JsonCursor, types: Iterable<string>, errorMustBeNull: boolean): boolean | typeof BROKEN {
  let listed = false;
  typeValueStart = -1;
  let step: Step = cursor.firstMember();
  for (; step === NEXT; step = cursor.nextMember()) {
    if (!cursor.stringPlain) return BROKEN;
    if (cursor.stringIs('type')) {
      listed = false;
      typeValueStart = -1;
      if (cursor.kind() === 'string') {
        if (!cursor.string() || !cursor.stringPlain) return BROKEN;
        typeValueStart = cursor.stringStart;
        for (const type of types) if (cursor.stringIs(type)) listed = true;
        continue;
      }
    } else if (errorMustBeNull && cursor.stringIs('error') && cursor.kind() !== 'null') {
      return BROKEN;
    }
    if (!cursor.skipValue()) return BROKEN;
  }
  return step === BROKEN || !cursor.atEnd() ? BROKEN : listed;
}

/** Where the last typeIsOneOf read put the content of the `type` that counts (-1: it was no string). Shared: reading is synchronous. */
let typeValueStart = -1;

/** Whether a value's span (quotes included) is the `type` string typeIsOneOf read last: for ChunkPatterns, a fact, never a hole. */
export function isTypeValue(open: number): boolean {
  return open + 1 === typeValueStart;
}
