import fc from 'fast-check';

/** Text mixing ASCII, accents, CJK, emoji (4-byte UTF-8), NUL and colons; never CR or LF. */
export const fieldText = fc
  .array(fc.constantFrom('a', 'Z', ' ', ':', 'é', '世界', '🎉', '👩‍💻', '\0', '{"k":1}', 'data', '\uFEFF'), {
    maxLength: 8,
  })
  .map((parts) => parts.join(''));

const line = fc.oneof(
  fieldText.map((t) => `data: ${t}`),
  fieldText.map((t) => `data:${t}`),
  fc.constant('data'),
  fc.constant('data:'),
  fieldText.map((t) => `event: ${t}`),
  fc.constant('event'),
  fieldText.map((t) => `id: ${t}`),
  fc.constant('id'),
  fc.oneof(fc.nat({ max: 99999 }).map(String), fieldText).map((v) => `retry: ${v}`),
  fieldText.map((t) => `:${t}`),
  fieldText.map((t) => `unknown: ${t}`),
  fieldText,
  fc.constant(''), // a blank line: frame boundary
);

/** A structured SSE stream as bytes: random lines, line endings drawn from `endings`, optional BOM. */
export function sseStreamWith(endings: readonly string[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      bom: fc.boolean(),
      lines: fc.array(fc.tuple(line, fc.constantFrom(...endings)), { maxLength: 30 }),
      trailing: fc.oneof(
        fc.constant(''),
        fieldText.map((t) => `data: ${t}`),
      ),
    })
    .map(({ bom, lines, trailing }) => {
      const text = (bom ? '\uFEFF' : '') + lines.map(([l, eol]) => l + eol).join('') + trailing;
      return new TextEncoder().encode(text);
    });
}

/** Mixed LF / CRLF / CR endings. */
export const sseStream = sseStreamWith(['\n', '\r\n', '\r']);
/** LF only, as every LLM provider sends: exercises the scanner's fast path. */
export const lfSseStream = sseStreamWith(['\n']);

/** Cut positions (taken modulo the stream length by splitAt); dense enough to make 1-byte pieces. */
export const cuts = fc.array(fc.nat(), { maxLength: 60 });
