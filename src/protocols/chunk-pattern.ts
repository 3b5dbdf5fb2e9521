import { QUOTE, scalarSpans, numberTokenEnd, stringTokenEnd } from './json-scan.js';

/**
 * Chunks read in full, as patterns for the ones after them: what lets the gates' in-place
 * readers (choice-stream.ts, anthropic-gate.ts, responses-gate.ts) skip the JSON walk for most
 * events of a stream.
 *
 * A pattern is a chunk's bytes with every value no fact depends on left open as a hole (content
 * deltas, ids, sequence numbers; never a member name, nor a value the reader's verdict reads).
 * Most chunks of a stream are the one before with other text: a chunk made of the same bytes
 * around holes, each filled with a valid token of the hole's kind (a string where a string was, a
 * number where a number was), is valid JSON with the same members and the same values wherever a
 * fact is read, so it has the same facts. That is proof by construction, not sniffing: a hole is
 * checked as a token by the same scanner, and every other byte must be identical.
 *
 * Once a chunk has repeated a pattern, the pattern is refined: a hole whose bytes that chunk
 * repeated (an id, `object`, an index) becomes part of the literal around it, so only the holes
 * that changed (the text, a sequence number) are still scanned. A literal is the stricter check,
 * so refining never admits a chunk the first pattern would refuse; a later chunk that does
 * change such a value is read in full and gives a new pattern.
 *
 * One instance serves one recording; `repeated` and `learn` are called in event order. A
 * pattern stays until the next `learn`: a chunk repeats the last chunk read in full, whatever
 * came between. (A hole that happens to repeat in the chunk that refines the pattern, such as two
 * equal deltas, is folded too; the next chunk then reads in full and learns again.)
 */
export class ChunkPatterns<F> {
  readonly #body: Buffer;
  readonly #view: DataView;
  #pattern: Pattern<F> | undefined;
  /** Where each hole ended in the chunk being matched: whole only right after a match succeeded (which is when #refine reads it). */
  readonly #holeEnds: number[] = [];

  constructor(body: Buffer) {
    this.#body = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  /** The facts of the chunk [start, end) when it repeats the pattern (its first repeat refines the pattern), else undefined. */
  repeated(start: number, end: number): F | undefined {
    const pattern = this.#pattern;
    if (!pattern || !this.#matches(pattern, start, end)) return undefined;
    if (!pattern.refined) this.#pattern = this.#refine(pattern, start, end);
    return pattern.facts;
  }

  /**
   * Take the chunk [start, end), read in full and proven valid JSON with these facts, as the
   * pattern for the next ones. Its holes are its string values (with `numbers`, its number values
   * too), except those `isFact` claims (given each value's span, quotes included).
   */
  learn(start: number, end: number, facts: F, numbers: boolean, isFact?: (open: number, after: number) => boolean): void {
    const spans = scalarSpans(this.#body, start, end, numbers);
    if (!spans) {
      this.#pattern = undefined;
      return;
    }
    const literals: number[] = [];
    let from = start;
    for (let k = 0; k < spans.length; k += 2) {
      const open = spans[k] as number;
      const after = spans[k + 1] as number;
      if (isFact?.(open, after)) continue;
      literals.push(from, open);
      from = after;
    }
    literals.push(from, end);
    this.#pattern = { facts, literals, refined: false };
  }

  #matches(pattern: Pattern<F>, start: number, end: number): boolean {
    const body = this.#body;
    const { literals } = pattern;
    let pos = start;
    for (let k = 0; k < literals.length; k += 2) {
      const from = literals[k] as number;
      const to = literals[k + 1] as number;
      const length = to - from;
      if (pos + length > end || !this.#same(from, pos, length)) return false;
      pos += length;
      if (k + 2 < literals.length) {
        // The hole's kind is the pattern's: the byte at `to`, in the chunk the pattern was drawn
        // over, is the quote of a string or the first byte of a number.
        pos = body[to] === QUOTE ? stringTokenEnd(body, pos, end) : numberTokenEnd(body, pos, end);
        if (pos < 0) return false;
        this.#holeEnds[k >> 1] = pos;
      }
    }
    return pos === end;
  }

  /**
   * The pattern after the chunk [start, end) matched it: its literals re-drawn over that chunk's
   * bytes, each hole whose token repeated the pattern's byte for byte folded into the literals on
   * either side of it.
   */
  #refine(pattern: Pattern<F>, start: number, end: number): Pattern<F> {
    const { literals } = pattern;
    const refined: number[] = [];
    let literalStart = start;
    let pos = start;
    for (let k = 0; k + 2 < literals.length; k += 2) {
      pos += (literals[k + 1] as number) - (literals[k] as number);
      const holeEnd = this.#holeEnds[k >> 1] as number;
      const length = holeEnd - pos;
      const patternHole = literals[k + 1] as number;
      const repeated = length === (literals[k + 2] as number) - patternHole && this.#same(patternHole, pos, length);
      if (!repeated) {
        refined.push(literalStart, pos);
        literalStart = holeEnd;
      }
      pos = holeEnd;
    }
    refined.push(literalStart, end);
    return { facts: pattern.facts, literals: refined, refined: true };
  }

  /**
   * Whether body[a, a + length) and body[b, b + length) hold the same bytes. Four at a time through
   * a DataView (about half the cost of a byte loop, in JIT code); a long run through Buffer#compare,
   * whose native memcmp beats both once the run outweighs the cost of the call (about 80 ns).
   */
  #same(a: number, b: number, length: number): boolean {
    const body = this.#body;
    if (length >= NATIVE_COMPARE_BYTES) return body.compare(body, a, a + length, b, b + length) === 0;
    const view = this.#view;
    let i = 0;
    for (; i + 4 <= length; i += 4) if (view.getUint32(a + i) !== view.getUint32(b + i)) return false;
    for (; i < length; i++) if (body[a + i] !== body[b + i]) return false;
    return true;
  }
}

interface Pattern<F> {
  facts: F;
  /** Flat pairs [start, end) of the bytes between holes (absolute offsets); a hole follows each pair but the last. */
  literals: number[];
  /** Whether repeated holes were already folded into the literals. */
  refined: boolean;
}

/** From this many bytes on, Buffer#compare is the cheaper comparison (measured on Node 20). */
const NATIVE_COMPARE_BYTES = 160;
