import type { SseRecordedEvents } from '../sse/recorded-events.js';
import { ChunkPatterns } from './chunk-pattern.js';
import { BROKEN, CLOSED, JsonCursor, NEXT, type Step } from './json-scan.js';
import { withoutExcludedFields } from './key-exclusions.js';
import {
  checkOpenAiBody,
  ChoiceStreamTally,
  inspectChoiceJson,
  inspectChoiceStream,
  isOpenAiDone,
  mapOpenAiUsage,
  OPENAI_DONE,
  openAiRequest,
  synthesizeChoices,
  wantsStreamUsage,
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
      return spec.checkFields(common.body) ?? openAiRequest(common, wantsStreamUsage(common.body));
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
 * `"finish_reason":"stop"` is string content here as it is for JSON.parse. A chunk that repeats,
 * with other strings, the last chunk read in full is judged by that chunk's pattern
 * (chunk-pattern.ts).
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
  const { body } = events;
  const patterns = new ChunkPatterns<ChunkFacts>(body);
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
    const end = events.dataEnd(i);
    const repeated = patterns.repeated(start, end);
    if (repeated) {
      applyFacts(tally, i, repeated, body);
      continue;
    }
    cursor.reset(body, start, end);
    const facts = readChunk(cursor);
    if (!facts) return undefined;
    applyFacts(tally, i, facts, body);
    // Holes: string values but `model` and those inside `usage` (numbers are facts here: indexes, token counts).
    patterns.learn(start, end, facts, false, (open, after) =>
      open + 1 === facts.modelStart || (facts.usageStart >= 0 && open >= facts.usageStart && after <= facts.usageEnd),
    );
  }
  const verdict = tally.verdict();
  return verdict.complete ? verdict : undefined;
}

/** What the gate reads from one chunk; offsets are absolute in the recording. */
interface ChunkFacts {
  /** Flat pairs: a choice's `index`, then 1 when its `finish_reason` is a string, else 0. */
  choices: number[];
  usage: Usage | undefined;
  emptyChoices: boolean;
  /** The `model` string's content, or -1 when `model` is absent or not a string. */
  modelStart: number;
  modelEnd: number;
  /** The `usage` object's span, or -1. */
  usageStart: number;
  usageEnd: number;
}

function applyFacts(tally: ChoiceStreamTally, i: number, facts: ChunkFacts, body: Buffer): void {
  const { choices } = facts;
  for (let c = 0; c < choices.length; c += 2) tally.choice(choices[c] as number, choices[c + 1] === 1);
  // Only the first chunk's model counts, so later ones are never decoded.
  const model = facts.modelStart >= 0 && !tally.hasModel ? body.toString('latin1', facts.modelStart, facts.modelEnd) : undefined;
  tally.chunk(i, model, facts.usage, facts.emptyChoices);
}

/**
 * Choice facts of the chunk being read, held until the chunk proves valid JSON; a later duplicate
 * `choices` member replaces them, as in JSON.parse. Shared (the reading is synchronous); `pending`
 * counts the live entries.
 */
const choiceIndexes: number[] = [];
const choiceFinished: boolean[] = [];
let pending = 0;

/** One chunk's facts; undefined when this reader cannot vouch for them (the full gate decides). */
function readChunk(cursor: JsonCursor): ChunkFacts | undefined {
  let modelStart = -1;
  let modelEnd = -1;
  let usageStart = -1;
  let usageEnd = -1;
  let choicesArray = false;
  let choiceCount = 0;
  pending = 0;
  let step: Step = cursor.firstMember();
  for (; step === NEXT; step = cursor.nextMember()) {
    if (!cursor.stringPlain) return undefined;
    if (cursor.stringIs('choices')) {
      pending = 0;
      choicesArray = cursor.kind() === 'array';
      choiceCount = choicesArray ? readChoices(cursor) : cursor.skipValue() ? 0 : -1;
      if (choiceCount < 0) return undefined;
    } else if (cursor.stringIs('model')) {
      if (cursor.kind() === 'string') {
        if (!cursor.string() || !cursor.stringPlain) return undefined;
        modelStart = cursor.stringStart;
        modelEnd = cursor.stringEnd;
      } else {
        modelStart = -1;
        modelEnd = -1;
        if (!cursor.skipValue()) return undefined;
      }
    } else if (cursor.stringIs('usage')) {
      const isObject = cursor.kind() === 'object';
      const from = cursor.pos;
      if (!cursor.skipValue()) return undefined;
      usageStart = isObject ? from : -1;
      usageEnd = isObject ? cursor.pos : -1;
    } else if (cursor.stringIs('error')) {
      // An error that is not null ends the fast path; the full gate words the reason.
      if (cursor.kind() !== 'null' || !cursor.skipValue()) return undefined;
    } else if (!cursor.skipValue()) {
      return undefined;
    }
  }
  if (step === BROKEN || !cursor.atEnd()) return undefined;
  const choices: number[] = [];
  for (let c = 0; c < pending; c++) choices.push(choiceIndexes[c] as number, choiceFinished[c] ? 1 : 0);
  const usage = usageStart >= 0 ? mapOpenAiUsage(JSON.parse(cursor.bytes.toString('utf8', usageStart, usageEnd))) : undefined;
  return { choices, usage, emptyChoices: choicesArray && choiceCount === 0, modelStart, modelEnd, usageStart, usageEnd };
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
