import type { SseRecordedEvents } from '../sse/recorded-events.js';
import { BROKEN, CLOSED, JsonCursor, NEXT, type Step } from './json-scan.js';
import { withoutExcludedFields } from './key-exclusions.js';
import {
  checkOpenAiBody,
  ChoiceStreamTally,
  choiceRequest,
  inspectChoiceJson,
  inspectChoiceStream,
  isOpenAiDone,
  mapOpenAiUsage,
  OPENAI_DONE,
  synthesizeChoices,
} from './openai-shared.js';
import { openAiStreamUsage } from './stream-usage.js';
import type { JsonObject, Protocol, RequestCheck, StreamVerdict, Usage } from './types.js';

/** What differs between chat and legacy completions as protocols; the rest is `choiceProtocol`'s. */
export interface ChoiceProtocolSpec {
  name: 'openai.chat' | 'openai.completions';
  path: string;
  /** The JSON answer's `object`. */
  object: 'chat.completion' | 'text_completion';
  /** How error messages and synthesized chunks name this endpoint's answers. */
  names: { answer: string; chunkObject: string };
  /** The endpoint's own fields (`messages`, `prompt`), once the common OpenAI fields passed. */
  checkFields(body: JsonObject): RequestCheck | undefined;
  assemble: Protocol['assemble'];
  /** One choice of a JSON answer as the stream chunks that carry it. */
  choiceChunks(choice: JsonObject): JsonObject[];
}

/**
 * Chat and legacy completions as protocols: one stream shape (choice chunks, an optional usage
 * chunk, `data: [DONE]`), so one completeness rule, read decoded or in place, and one way to ask
 * for usage; the same key rule (the body minus the exclusions listed for the endpoint); the same
 * common request fields; and every answer is cacheable, because every choice of an `n > 1`
 * answer is recorded and replayed by index. They differ in the spec's fields only.
 */
export function choiceProtocol(spec: ChoiceProtocolSpec): Protocol {
  const { name, object, names, choiceChunks } = spec;
  return {
    name,
    family: 'openai',
    path: spec.path,
    validate(body) {
      const common = checkOpenAiBody(body);
      if (!common.ok) return common.failure;
      return spec.checkFields(common.body) ?? choiceRequest(common);
    },
    cacheability: () => ({ cacheable: true }),
    keyMaterial: (request) => withoutExcludedFields(name, request.body),
    isTerminal: isOpenAiDone,
    inspectStream: inspectChoiceStream,
    inspectRecording: inspectChoiceRecording,
    inspectJson: (body) => inspectChoiceJson(body, object),
    streamUsage: openAiStreamUsage,
    assemble: spec.assemble,
    synthesize: (answer, request) => synthesizeChoices(answer, request, names, choiceChunks),
  };
}

/**
 * The choice-stream gate (chat and legacy completions) on a recording read in place: each
 * chunk's JSON is walked by the validating cursor (json-scan.ts) and only the facts the verdict
 * needs are read: `choices[].index` and whether `choices[].finish_reason` is a string, a string
 * `model`, the `usage` object, and that `error` is absent or null. Content deltas are checked
 * and skipped, never built, so a delta whose text holds `[DONE]`, `"error"` or
 * `"finish_reason":"stop"` is string content here as it is for JSON.parse.
 *
 * It returns a verdict only for a stream it proves complete, and that verdict is the one
 * inspectChoiceStream gives the decoded events (the same ChoiceStreamTally; see
 * test/protocols/recording-verdicts.test.ts). Anything else (an error, a malformed chunk, an
 * escaped member name, data over several lines) is undefined: the gate then decodes the events
 * and inspectChoiceStream says why, so the rare case pays for the full parse and the common
 * case does not.
 */
export function inspectChoiceRecording(events: SseRecordedEvents): StreamVerdict | undefined {
  const tally = new ChoiceStreamTally();
  const cursor = new JsonCursor(events.body, 0, 0);
  const last = events.length - 1;
  for (let i = 0; i <= last; i++) {
    if (events.dataIs(i, OPENAI_DONE)) {
      // A terminal event before the last is refused by the full gate; let it say so.
      if (i !== last) return undefined;
      tally.done = true;
      continue;
    }
    if (events.eventIs(i, 'error')) return undefined;
    const start = events.dataStart(i);
    if (start < 0) return undefined;
    cursor.reset(events.body, start, events.dataEnd(i));
    if (!readChunk(cursor, tally, i)) return undefined;
  }
  const verdict = tally.verdict();
  return verdict.complete ? verdict : undefined;
}

/**
 * Choice facts of the chunk being read, held until the chunk proves valid JSON; a later duplicate
 * `choices` member replaces them, as in JSON.parse. Shared (the reading is synchronous); `pending`
 * counts the live entries.
 */
const choiceIndexes: number[] = [];
const choiceFinished: boolean[] = [];
let pending = 0;

/** One chunk's facts into the tally; false when this reader cannot vouch for them (the full gate decides). */
function readChunk(cursor: JsonCursor, tally: ChoiceStreamTally, i: number): boolean {
  let modelStart = -1;
  let modelEnd = -1;
  let usageStart = -1;
  let usageEnd = -1;
  let choicesArray = false;
  let choiceCount = 0;
  pending = 0;
  let step: Step = cursor.firstMember();
  for (; step === NEXT; step = cursor.nextMember()) {
    if (!cursor.stringPlain) return false;
    if (cursor.stringIs('choices')) {
      pending = 0;
      choicesArray = cursor.kind() === 'array';
      choiceCount = choicesArray ? readChoices(cursor) : cursor.skipValue() ? 0 : -1;
      if (choiceCount < 0) return false;
    } else if (cursor.stringIs('model')) {
      if (cursor.kind() === 'string') {
        if (!cursor.string() || !cursor.stringPlain) return false;
        modelStart = cursor.stringStart;
        modelEnd = cursor.stringEnd;
      } else {
        modelStart = -1;
        if (!cursor.skipValue()) return false;
      }
    } else if (cursor.stringIs('usage')) {
      const isObject = cursor.kind() === 'object';
      const from = cursor.pos;
      if (!cursor.skipValue()) return false;
      usageStart = isObject ? from : -1;
      usageEnd = cursor.pos;
    } else if (cursor.stringIs('error')) {
      // An error that is not null ends the fast path; the full gate words the reason.
      if (cursor.kind() !== 'null' || !cursor.skipValue()) return false;
    } else if (!cursor.skipValue()) {
      return false;
    }
  }
  if (step === BROKEN || !cursor.atEnd()) return false;
  for (let c = 0; c < pending; c++) {
    tally.choice(choiceIndexes[c] as number, choiceFinished[c] as boolean);
  }
  let usage: Usage | undefined;
  if (usageStart >= 0) usage = mapOpenAiUsage(JSON.parse(cursor.bytes.toString('utf8', usageStart, usageEnd)));
  // Only the first chunk's model counts, so later ones are never decoded.
  const model = modelStart >= 0 && !tally.hasModel ? cursor.bytes.toString('latin1', modelStart, modelEnd) : undefined;
  tally.chunk(i, model, usage, choicesArray && choiceCount === 0);
  return true;
}

/** The elements of `choices`; the object ones with a numeric `index` become pending facts. Returns the count, -1 when broken. */
function readChoices(cursor: JsonCursor): number {
  let count = 0;
  let step: Step = cursor.firstElement();
  for (; step === NEXT; step = cursor.nextElement()) {
    count++;
    if (cursor.kind() !== 'object') {
      if (!cursor.skipValue()) return -1;
      continue;
    }
    let index: number | undefined;
    let finished = false;
    let member: Step = cursor.firstMember();
    for (; member === NEXT; member = cursor.nextMember()) {
      if (!cursor.stringPlain) return -1;
      if (cursor.stringIs('index')) {
        index = cursor.kind() === 'number' ? cursor.number() : undefined;
        if (index === undefined && !cursor.skipValue()) return -1;
      } else if (cursor.stringIs('finish_reason')) {
        finished = cursor.kind() === 'string';
        if (!cursor.skipValue()) return -1;
      } else if (!cursor.skipValue()) {
        return -1;
      }
    }
    if (member !== CLOSED) return -1;
    if (index !== undefined) {
      choiceIndexes[pending] = index;
      choiceFinished[pending] = finished;
      pending++;
    }
  }
  return step === CLOSED ? count : -1;
}
