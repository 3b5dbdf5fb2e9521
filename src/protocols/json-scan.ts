/**
 * A validating cursor over JSON text held as UTF-8 bytes, for the completeness gate: it walks the
 * whole JSON grammar (strings with their escapes, numbers, literals, nesting to any depth) and
 * lets the caller read the few members a verdict needs while every other value is checked and
 * skipped without building it. A text this cursor accepts is exactly a text `JSON.parse` accepts,
 * and what it reads (member names, kinds, numbers, plain strings) is what `JSON.parse` would give,
 * so a verdict built on it is proof, not sniffing (DESIGN.md rule 1): a `"[DONE]"` or `"error"`
 * inside a string is string content here, as it is for JSON.parse.
 *
 * Bytes, not a decoded string, because the gate reads recordings: no data string is built, and
 * UTF-8 decoding cannot change the structure (every structural character is ASCII, and an ASCII
 * byte decodes to itself whatever invalid sequence precedes it). Callers that need a string
 * which is not plain ASCII decode it themselves (see `plainAscii`).
 */

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** What starts at the cursor. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'true' | 'false' | 'null' | 'invalid';

/** Result of `firstMember` / `nextMember` / `firstElement` / `nextElement`. */
export const NEXT = 1;
export const CLOSED = 0;
export const BROKEN = -1;
export type Step = typeof NEXT | typeof CLOSED | typeof BROKEN;

/** Per string byte: 0 plain ASCII, 1 ends the string, 2 starts an escape, 3 not allowed raw (control), 4 non-ASCII. */
const STRING_BYTE = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STRING_BYTE[b] = 3;
for (let b = 0x80; b < 0x100; b++) STRING_BYTE[b] = 4;
STRING_BYTE[QUOTE] = 1;
STRING_BYTE[BACKSLASH] = 2;

/** Bytes allowed after a backslash other than `u`: `" \ / b f n r t`. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

function isHex(b: number): boolean {
  return (b >= ZERO && b <= NINE) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

function isDigit(b: number): boolean {
  return b >= ZERO && b <= NINE;
}

const LITERAL_TRUE = [0x74, 0x72, 0x75, 0x65];
const LITERAL_FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const LITERAL_NULL = [0x6e, 0x75, 0x6c, 0x6c];

/** Containers open in skipAny (1 object, 2 array): one shared, growable stack (the walk is synchronous). */
let containers = new Uint8Array(64);

/** After scanString: whether the string held neither an escape nor a non-ASCII byte. */
let scannedPlain = true;

/** Past JSON whitespace from `pos`. */
function skipWs(bytes: Buffer, pos: number, end: number): number {
  while (pos < end) {
    const b = bytes[pos] as number;
    // Compact JSON (what LLM APIs send) has no whitespace: one comparison in the common case.
    if (b > 0x20 || (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)) break;
    pos++;
  }
  return pos;
}

/** `bytes[pos]` is a quote: the position past the closing quote, or -1 when the string is not valid JSON. */
function scanString(bytes: Buffer, pos: number, end: number): number {
  let plain = true;
  pos++;
  for (;;) {
    if (pos >= end) return -1;
    const type = STRING_BYTE[bytes[pos++] as number] as number;
    if (type === 0) continue;
    if (type === 1) break;
    plain = false;
    if (type === 4) continue;
    if (type === 3 || pos >= end) return -1;
    const escaped = bytes[pos++] as number;
    if (SIMPLE_ESCAPE[escaped] === 1) continue;
    if (escaped !== 0x75 || pos + 4 > end) return -1;
    for (let i = 0; i < 4; i++) if (!isHex(bytes[pos++] as number)) return -1;
  }
  scannedPlain = plain;
  return pos;
}

/** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` from `pos`: the position past it, or -1. */
function scanNumber(bytes: Buffer, pos: number, end: number): number {
  if (bytes[pos] === MINUS) pos++;
  if (pos >= end) return -1;
  const first = bytes[pos] as number;
  if (first === ZERO) pos++;
  else if (isDigit(first)) while (pos < end && isDigit(bytes[pos] as number)) pos++;
  else return -1;
  if (pos < end && bytes[pos] === DOT) {
    pos++;
    if (pos >= end || !isDigit(bytes[pos] as number)) return -1;
    while (pos < end && isDigit(bytes[pos] as number)) pos++;
  }
  if (pos < end && (bytes[pos] === 0x65 || bytes[pos] === 0x45)) {
    pos++;
    if (pos < end && (bytes[pos] === PLUS || bytes[pos] === MINUS)) pos++;
    if (pos >= end || !isDigit(bytes[pos] as number)) return -1;
    while (pos < end && isDigit(bytes[pos] as number)) pos++;
  }
  return pos;
}

function scanLiteral(bytes: Buffer, pos: number, end: number, expected: readonly number[]): number {
  if (pos + expected.length > end) return -1;
  for (let i = 0; i < expected.length; i++) if (bytes[pos + i] !== expected[i]) return -1;
  return pos + expected.length;
}

/** A member name and its colon from `pos` (after whitespace): the position past the colon, or -1. */
function scanMemberName(bytes: Buffer, pos: number, end: number): number {
  if (bytes[pos] !== QUOTE) return -1;
  pos = scanString(bytes, pos, end);
  if (pos < 0) return -1;
  pos = skipWs(bytes, pos, end);
  return bytes[pos] === COLON ? pos + 1 : -1;
}

/**
 * One value of any kind from `pos`, nested to any depth with no recursion (depth costs no
 * stack): the position past it, or -1 when it is not valid JSON.
 */
function skipAny(bytes: Buffer, pos: number, end: number): number {
  let depth = 0;
  for (;;) {
    // A value starts here.
    pos = skipWs(bytes, pos, end);
    if (pos >= end) return -1;
    const b = bytes[pos] as number;
    if (b === QUOTE) pos = scanString(bytes, pos, end);
    else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      pos = skipWs(bytes, pos + 1, end);
      if (bytes[pos] === (b === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) pos++;
      else {
        if (depth === containers.length) {
          const grown = new Uint8Array(containers.length * 2);
          grown.set(containers);
          containers = grown;
        }
        containers[depth++] = b === OPEN_OBJECT ? 1 : 2;
        if (b === OPEN_OBJECT) {
          pos = scanMemberName(bytes, pos, end);
          if (pos < 0) return -1;
        }
        continue;
      }
    } else if (b === 0x74) pos = scanLiteral(bytes, pos, end, LITERAL_TRUE);
    else if (b === 0x66) pos = scanLiteral(bytes, pos, end, LITERAL_FALSE);
    else if (b === 0x6e) pos = scanLiteral(bytes, pos, end, LITERAL_NULL);
    else pos = scanNumber(bytes, pos, end);
    if (pos < 0) return -1;
    // A value ended: close containers until one continues with another value.
    for (;;) {
      if (depth === 0) return pos;
      pos = skipWs(bytes, pos, end);
      const next = bytes[pos];
      const container = containers[depth - 1];
      if (next === COMMA) {
        pos = skipWs(bytes, pos + 1, end);
        if (container === 1) {
          pos = scanMemberName(bytes, pos, end);
          if (pos < 0) return -1;
        }
        break;
      }
      if ((container === 1 && next === CLOSE_OBJECT) || (container === 2 && next === CLOSE_ARRAY)) {
        pos++;
        depth--;
        continue;
      }
      return -1;
    }
  }
}

/**
 * The string values of a JSON text already proven valid (member names left out), and with
 * `numbers` its number values too, as flat pairs [start, end), a string's quotes included. In
 * valid JSON every quote outside a string opens one, so the next string is found with a native
 * search and its end by scanString; outside strings, a minus or a digit can only start a number.
 */
export function scalarSpans(bytes: Buffer, start: number, end: number, numbers: boolean): number[] | undefined {
  const spans: number[] = [];
  let pos = start;
  for (;;) {
    const found = bytes.indexOf(QUOTE, pos);
    const open = found < 0 || found >= end ? end : found;
    if (numbers) {
      for (let p = pos; p < open; p++) {
        const b = bytes[p] as number;
        if (b !== MINUS && !isDigit(b)) continue;
        const after = scanNumber(bytes, p, open);
        if (after < 0) return undefined;
        spans.push(p, after);
        p = after - 1;
      }
    }
    if (open === end) return spans;
    const after = scanString(bytes, open, end);
    if (after < 0) return undefined;
    if (bytes[skipWs(bytes, after, end)] !== COLON) spans.push(open, after);
    pos = after;
  }
}

/**
 * The position past the longest valid JSON number at `start` (before `end`), or -1 when none
 * starts there. Longest prefix: `01` gives the position after `0`, so a caller must check what
 * follows (ChunkPatterns compares it with the delimiter its pattern has there).
 */
export function numberTokenEnd(bytes: Buffer, start: number, end: number): number {
  return scanNumber(bytes, start, end);
}

/** The position past the valid JSON string token whose opening quote is at `start` (before `end`), or -1 when none is. */
export function stringTokenEnd(bytes: Buffer, start: number, end: number): number {
  return bytes[start] === QUOTE ? scanString(bytes, start, end) : -1;
}

export class JsonCursor {
  pos: number;
  /** Span of the last string read (a member name or a value), quotes excluded. */
  stringStart = 0;
  stringEnd = 0;
  /** Whether that string held neither an escape nor a non-ASCII byte (so its bytes are its text). */
  stringPlain = true;

  constructor(
    public bytes: Buffer,
    start: number,
    public end: number,
  ) {
    this.pos = start;
  }

  /** Points the cursor at another text (one cursor serves every event of a recording). */
  reset(bytes: Buffer, start: number, end: number): void {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  /** Skips JSON whitespace and returns the next byte, or -1 at the end. */
  peek(): number {
    this.pos = skipWs(this.bytes, this.pos, this.end);
    return this.pos < this.end ? (this.bytes[this.pos] as number) : -1;
  }

  /** The kind of value at the cursor (after whitespace), without consuming it. */
  kind(): JsonKind {
    const b = this.peek();
    if (b === OPEN_OBJECT) return 'object';
    if (b === OPEN_ARRAY) return 'array';
    if (b === QUOTE) return 'string';
    if (b === MINUS || isDigit(b)) return 'number';
    if (b === 0x74) return 'true';
    if (b === 0x66) return 'false';
    if (b === 0x6e) return 'null';
    return 'invalid';
  }

  /** True when nothing but whitespace is left: a document must end after its one value. */
  atEnd(): boolean {
    return this.peek() === -1;
  }

  /** Consumes `{` and reports the first member (its name is then the last string read) or the empty object's `}`. */
  firstMember(): Step {
    if (this.peek() !== OPEN_OBJECT) return BROKEN;
    this.pos++;
    if (this.peek() === CLOSE_OBJECT) {
      this.pos++;
      return CLOSED;
    }
    return this.memberName();
  }

  /** After a member's value: the next member, or the object's `}`. */
  nextMember(): Step {
    const b = this.peek();
    if (b === CLOSE_OBJECT) {
      this.pos++;
      return CLOSED;
    }
    if (b !== COMMA) return BROKEN;
    this.pos++;
    this.peek();
    return this.memberName();
  }

  /** Consumes `[` and reports whether an element follows or the array is empty. */
  firstElement(): Step {
    if (this.peek() !== OPEN_ARRAY) return BROKEN;
    this.pos++;
    if (this.peek() === CLOSE_ARRAY) {
      this.pos++;
      return CLOSED;
    }
    return NEXT;
  }

  /** After an element: whether another follows, or the array's `]`. */
  nextElement(): Step {
    const b = this.peek();
    if (b === CLOSE_ARRAY) {
      this.pos++;
      return CLOSED;
    }
    if (b !== COMMA) return BROKEN;
    this.pos++;
    return NEXT;
  }

  /** Whether the last string read is exactly the ASCII `name` (an escaped spelling never matches: check `stringPlain`). */
  stringIs(name: string): boolean {
    const { bytes, stringStart, stringEnd } = this;
    if (stringEnd - stringStart !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (bytes[stringStart + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  /** Reads a string value; the content is then `stringStart..stringEnd`. False when it is not a valid string. */
  string(): boolean {
    if (this.peek() !== QUOTE) return false;
    const after = scanString(this.bytes, this.pos, this.end);
    if (after < 0) return false;
    this.noteString(this.pos, after);
    return true;
  }

  /** Reads a number value, or undefined when the grammar does not hold. Same value as JSON.parse. */
  number(): number | undefined {
    const start = skipWs(this.bytes, this.pos, this.end);
    const after = scanNumber(this.bytes, start, this.end);
    if (after < 0) return undefined;
    this.pos = after;
    let text = '';
    for (let i = start; i < after; i++) text += String.fromCharCode(this.bytes[i] as number);
    return Number(text);
  }

  /** Checks and skips one value of any kind, nested to any depth. */
  skipValue(): boolean {
    const { bytes, end } = this;
    const pos = skipWs(bytes, this.pos, end);
    // Most skipped values are scalars: no container walk for them.
    const b = bytes[pos];
    const after =
      b === QUOTE
        ? scanString(bytes, pos, end)
        : b === 0x6e
          ? scanLiteral(bytes, pos, end, LITERAL_NULL)
          : b !== undefined && isDigit(b)
            ? scanNumber(bytes, pos, end)
            : skipAny(bytes, pos, end);
    if (after < 0) return false;
    this.pos = after;
    return true;
  }

  private memberName(): Step {
    const { bytes, end } = this;
    const open = this.pos;
    if (bytes[open] !== QUOTE) return BROKEN;
    const close = scanString(bytes, open, end);
    if (close < 0) return BROKEN;
    this.noteString(open, close);
    const colon = skipWs(bytes, close, end);
    if (bytes[colon] !== COLON) return BROKEN;
    this.pos = colon + 1;
    return NEXT;
  }

  /** Records the string whose quotes are at `open` and `close - 1`. */
  private noteString(open: number, close: number): void {
    this.stringStart = open + 1;
    this.stringEnd = close - 1;
    this.stringPlain = scannedPlain;
    this.pos = close;
  }
}
