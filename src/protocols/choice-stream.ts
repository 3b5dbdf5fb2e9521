import type { SseRecordedEvents } from '../sse/recorded-events.js';
import { BROKEN, CLOSED, JsonCursor, NEXT, type Step, stringTokenEnd, stringValueSpans } from './json-scan.js';
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
  const { body } = events;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const last = events.length - 1;
  let template: ChunkTemplate | undefined;
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
    if (template && matchesTemplate(template, body, view, start, end)) {
      applyFacts(tally, i, template.facts, body);
      if (!template.refined) template = refineTemplate(template, body, view, start, end);
      continue;
    }
    cursor.reset(body, start, end);
    const facts = readChunk(cursor);
    if (!facts) return undefined;
    applyFacts(tally, i, facts, body);
    template = chunkTemplate(body, start, end, facts);
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
 * A chunk read in full, as a pattern for the next ones: its bytes, with every string value that
 * no fact depends on (content deltas, ids, finish reasons, tool arguments; not `model`, nothing
 * inside `usage`) left open as a hole. Most chunks of a stream are the one before with other text:
 * a chunk made of the same bytes around holes, each filled with a valid JSON string, is valid
 * JSON with the same members, the same non-string values and strings where strings were, so it
 * has the same facts. That is proof by construction, not sniffing: a hole is checked as a string
 * token by the same scanner, and every other byte must be identical.
 *
 * Once a chunk has matched, the template is refined (refineTemplate): a hole whose bytes that
 * chunk repeated (the id, `object`, the fingerprint) becomes part of the literal around it, so
 * that only the holes that changed (the text) are still scanned. A literal is the stricter check,
 * so refining never admits a chunk the first template would refuse; a later chunk that does change
 * such a value is read in full and gives a new template.
 */
interface ChunkTemplate {
  facts: ChunkFacts;
  /** Flat pairs [start, end) of the template's bytes between holes (absolute offsets); a hole follows each pair but the last. */
  literals: number[];
  /** Whether repeated holes were already merged into the literals. */
  refined: boolean;
}

function chunkTemplate(body: Buffer, start: number, end: number, facts: ChunkFacts): ChunkTemplate | undefined {
  const spans = stringValueSpans(body, start, end);
  if (!spans) return undefined;
  const literals: number[] = [];
  let from = start;
  for (let k = 0; k < spans.length; k += 2) {
    const open = spans[k] as number;
    const after = spans[k + 1] as number;
    const isModel = open + 1 === facts.modelStart;
    const inUsage = facts.usageStart >= 0 && open >= facts.usageStart && after <= facts.usageEnd;
    if (isModel || inUsage) continue;
    literals.push(from, open);
    from = after;
  }
  literals.push(from, end);
  return { facts, literals, refined: false };
}

/** Where each hole ended in the chunk matched last (shared: matching is synchronous). */
const holeEnds: number[] = [];

function matchesTemplate(template: ChunkTemplate, body: Buffer, view: DataView, start: number, end: number): boolean {
  const { literals } = template;
  let pos = start;
  for (let k = 0; k < literals.length; k += 2) {
    const from = literals[k] as number;
    const length = (literals[k + 1] as number) - from;
    if (pos + length > end || !sameBytes(body, view, from, pos, length)) return false;
    pos += length;
    if (k + 2 < literals.length) {
      pos = stringTokenEnd(body, pos, end);
      if (pos < 0) return false;
      holeEnds[k >> 1] = pos;
    }
  }
  return pos === end;
}

/**
 * The template after the chunk [start, end) matched it: its literals re-drawn over that chunk's
 * bytes, each hole whose token repeated the template's byte for byte folded into the literals on
 * either side of it.
 */
function refineTemplate(template: ChunkTemplate, body: Buffer, view: DataView, start: number, end: number): ChunkTemplate {
  const { literals } = template;
  const refined: number[] = [];
  let literalStart = start;
  let pos = start;
  for (let k = 0; k + 2 < literals.length; k += 2) {
    pos += (literals[k + 1] as number) - (literals[k] as number);
    const holeEnd = holeEnds[k >> 1] as number;
    const length = holeEnd - pos;
    const templateHole = literals[k + 1] as number;
    const repeated = length === (literals[k + 2] as number) - templateHole && sameBytes(body, view, templateHole, pos, length);
    if (!repeated) {
      refined.push(literalStart, pos);
      literalStart = holeEnd;
    }
    pos = holeEnd;
  }
  refined.push(literalStart, end);
  return { facts: template.facts, literals: refined, refined: true };
}

/**
 * Whether body[a, a + length) and body[b, b + length) hold the same bytes. Four at a time through
 * a DataView (about half the cost of a byte loop, in JIT code); a long run through Buffer#compare,
 * whose native memcmp beats both once the run outweighs the cost of the call (about 80 ns).
 */
function sameBytes(body: Buffer, view: DataView, a: number, b: number, length: number): boolean {
  if (length >= NATIVE_COMPARE_BYTES) return body.compare(body, a, a + length, b, b + length) === 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (view.getUint32(a + i) !== view.getUint32(b + i)) return false;
  for (; i < length; i++) if (body[a + i] !== body[b + i]) return false;
  return true;
}

/** From this many bytes on, Buffer#compare is the cheaper comparison (measured on Node 20). */
const NATIVE_COMPARE_BYTES = 160;

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
