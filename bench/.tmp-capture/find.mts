import fc from 'fast-check';
const { CLOSED, JsonCursor, NEXT } = await import('/work/wt-capture/src/protocols/json-scan.ts');
const r = fc.check(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
  const text = JSON.stringify(object);
  const bytes = Buffer.from(text, 'utf8');
  const cursor = new JsonCursor(bytes, 0, bytes.length);
  const seen: Record<string, unknown> = {};
  let step = cursor.firstMember();
  for (; step === NEXT; step = cursor.nextMember()) {
    const name = JSON.parse(`"${bytes.toString('utf8', cursor.stringStart, cursor.stringEnd)}"`) as string;
    const kind = cursor.kind();
    if (kind === 'number') seen[name] = cursor.number();
    else if (kind === 'string') {
      if (!cursor.string()) return false;
      const raw = bytes.toString('utf8', cursor.stringStart, cursor.stringEnd);
      seen[name] = cursor.stringPlain ? bytes.toString('latin1', cursor.stringStart, cursor.stringEnd) : JSON.parse(`"${raw}"`);
    } else {
      if (!cursor.skipValue()) return false;
      seen[name] = JSON.parse(text)[name];
    }
  }
  if (step !== CLOSED || !cursor.atEnd()) return false;
  return JSON.stringify(seen) === JSON.stringify(JSON.parse(text)) ;
}), { numRuns: 20000 });
console.log(r.failed, r.counterexample && JSON.stringify(r.counterexample));
