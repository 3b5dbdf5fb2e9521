import type { SseRecordedEvents } from '../sse/recorded-events.js';
import { ChunkPatterns } from './chunk-pattern.js';
import { BROKEN, JsonCursor, NEXT, type Step } from './json-scan.js';

/**
 * The top-level `type` of an event's JSON, read in place by the Anthropic Messages and OpenAI
 * Responses gates, whose verdicts act on a few event types only and need nothing else from the
 * many deltas between them.
 */

/**
 * A recording's events as such a gate reads them: whether each one's type is listed, from the
 * cursor's walk or, for an event that repeats the last unlisted event read in full with other
 * strings and numbers around the same `type`, from that event's pattern (chunk-pattern.ts),
 * without the walk.
 */
export class EventTypeReader {
  readonly #events: SseRecordedEvents;
  readonly #cursor: JsonCursor;
  readonly #patterns: ChunkPatterns<true>;
  /** Where the counted `type` string's content began in the event walked last (-1: no `type`, or not a string). */
  #typeValueStart = -1;
  /** For ChunkPatterns: the counted `type` string (its span, quotes included) is a fact, never a hole. */
  readonly #isTypeValue = (open: number): boolean => open + 1 === this.#typeValueStart;

  constructor(
    events: SseRecordedEvents,
    private readonly types: Iterable<string>,
    private readonly errorMustBeNull: boolean,
  ) {
    this.#events = events;
    this.#cursor = new JsonCursor(events.body, 0, 0);
    this.#patterns = new ChunkPatterns<true>(events.body);
  }

  /**
   * Whether event `i`'s type is listed (the caller then parses it whole), false when it is proven
   * another, BROKEN when it cannot be read in place (data over several lines, or as #typeIsOneOf says).
   */
  isListed(i: number): boolean | typeof BROKEN {
    const events = this.#events;
    const start = events.dataStart(i);
    if (start < 0) return BROKEN;
    const end = events.dataEnd(i);
    if (this.#patterns.repeated(start, end)) return false;
    this.#cursor.reset(events.body, start, end);
    const listed = this.#typeIsOneOf();
    // An unlisted event's facts are its type (and a null or absent `error`: null is no hole).
    if (listed === false) this.#patterns.learn(start, end, true, true, this.#isTypeValue);
    return listed;
  }

  /**
   * Whether the text's top-level `type` (the last one, as in JSON.parse) is one of the listed
   * types, compared as bytes so that no string is built for the common delta. BROKEN when the text
   * is not one valid JSON object, spells a member name or that `type` with escapes, or (with
   * `errorMustBeNull`) has a top-level `error` that is not null: the full parse then decides.
   */
  #typeIsOneOf(): boolean | typeof BROKEN {
    const cursor = this.#cursor;
    let listed = false;
    this.#typeValueStart = -1;
    let step: Step = cursor.firstMember();
    for (; step === NEXT; step = cursor.nextMember()) {
      if (!cursor.stringPlain) return BROKEN;
      if (cursor.stringIs('type')) {
        listed = false;
        this.#typeValueStart = -1;
        if (cursor.kind() === 'string') {
          if (!cursor.string() || !cursor.stringPlain) return BROKEN;
          this.#typeValueStart = cursor.stringStart;
          for (const type of this.types) if (cursor.stringIs(type)) listed = true;
          continue;
        }
      } else if (this.errorMustBeNull && cursor.stringIs('error') && cursor.kind() !== 'null') {
        return BROKEN;
      }
      if (!cursor.skipValue()) return BROKEN;
    }
    return step === BROKEN || !cursor.atEnd() ? BROKEN : listed;
  }
}
