import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOSED, JsonCursor, NEXT } from '../../src/protocols/json-scan.js';

/**
 * The cursor must accept exactly the texts JSON.parse accepts, and read what JSON.parse reads:
 * the gate's in-place verdicts rest on it (DESIGN.md rule 1).
 */

const runs = { numRuns: Number(process.env.JSON_RUNS ?? 2000) };

function cursorAccepts(text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  const cursor = new JsonCursor(bytes, 0, bytes.length);
  return cursor.skipValue() && cursor.atEnd();
}

function parseAccepts(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Pieces that make text near JSON: most splices of them break it in some small way. */
const piece = fc.constantFrom(
  '{', '}', '[', ']', ',', ':', '"', '\\', '\\"', '\\u00e9', '\\u12', '\\x', '\\n', ' ', '\t', '\n', '\r',
  '\u0001', '\u00a0', '\ufeff', 'é', '🎉', '0', '-', '01', '1.', '.5', '1e', '1e+', '-0', '2E-3',
  'true', 'tru', 'false', 'null', 'nul', 'NaN', '"a"', '"k":', '"k":1', '[]', '{}',
);

const mutatedJson = fc
  .tuple(fc.json(), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), piece), { maxLength: 3 }))
  .map(([text, edits]) => {
    let out = text;
    for (const [at, remove, inserted] of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + inserted + out.slice(i + remove);
    }
    return out;
  });

describe('JsonCursor', () => {
  it('accepts every JSON text (fast-check json())', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(cursorAccepts(text)).toBe(true);
      }),
      runs,
    );
  });

  it('accepts and refuses exactly what JSON.parse does, on mutated JSON', () => {
    fc.assert(
      fc.property(mutatedJson, (text) => {
        expect(cursorAccepts(text)).toBe(parseAccepts(text));
      }),
      runs,
    );
  });

  it('agrees with JSON.parse on random strings of JSON-ish pieces', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('');
        expect(cursorAccepts(text)).toBe(parseAccepts(text));
      }),
      runs,
    );
  });

  it('walks nesting far deeper than a recursive parser could, without using stack', () => {
    const depth = 200_000;
    const deep = `${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}`;
    expect(cursorAccepts(deep)).toBe(parseAccepts(deep));
    expect(cursorAccepts(deep.slice(0, -1))).toBe(false);
  });

  it('reads member names, kinds, numbers and plain strings as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const text = JSON.stringify(object);
        const bytes = Buffer.from(text, 'utf8');
        const cursor = new JsonCursor(bytes, 0, bytes.length);
        // A Map, not an object: `__proto__` is an ordinary member name to JSON.parse.
        const seen = new Map<string, unknown>();
        let step = cursor.firstMember();
        for (; step === NEXT; step = cursor.nextMember()) {
          const name = JSON.parse(`"${bytes.toString('utf8', cursor.stringStart, cursor.stringEnd)}"`) as string;
          const kind = cursor.kind();
          if (kind === 'number') seen.set(name, cursor.number());
          else if (kind === 'string') {
            expect(cursor.string()).toBe(true);
            const raw = bytes.toString('utf8', cursor.stringStart, cursor.stringEnd);
            // A plain string is its bytes; only escapes or non-ASCII need decoding.
            seen.set(name, cursor.stringPlain ? bytes.toString('latin1', cursor.stringStart, cursor.stringEnd) : JSON.parse(`"${raw}"`));
          } else {
            expect(cursor.skipValue()).toBe(true);
            seen.set(name, new Map(Object.entries(JSON.parse(text) as object)).get(name));
          }
        }
        expect(step).toBe(CLOSED);
        expect(cursor.atEnd()).toBe(true);
        expect(seen).toEqual(new Map(Object.entries(JSON.parse(text) as object)));
      }),
      { numRuns: 500 },
    );
  });

  it('tells a plain name from an escaped spelling of it', () => {
    const bytes = Buffer.from('{"error":1,"err\\u006fr":2,"é":3}', 'utf8');
    const cursor = new JsonCursor(bytes, 0, bytes.length);
    const plain: Array<[boolean, boolean]> = [];
    for (let step = cursor.firstMember(); step === NEXT; step = cursor.nextMember()) {
      plain.push([cursor.stringPlain, cursor.stringIs('error')]);
      expect(cursor.skipValue()).toBe(true);
    }
    expect(plain).toEqual([
      [true, true],
      [false, false],
      [false, false],
    ]);
  });
});
