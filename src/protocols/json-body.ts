/**
 * Request bodies as the protocols may see them: strict UTF-8 and bounded nesting, checked before
 * anything parses or walks them. A lenient decode would replace an invalid byte by U+FFFD, so
 * two different bodies (both forwarded upstream as sent) would share one cache key; unbounded
 * nesting would let one request overflow any recursive walk.
 */

/** Deepest nesting of objects and arrays accepted in a request body (`{}` is depth 1). */
export const DEFAULT_MAX_JSON_DEPTH = 128;

export type JsonBodyFailure = { code: 'invalid_utf8' | 'too_deep' | 'invalid_json'; message: string };
export type JsonBodyResult = { ok: true; value: unknown } | ({ ok: false } & JsonBodyFailure);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode, check the depth, parse. Never throws. */
export function parseJsonBody(body: Uint8Array | string, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonBodyResult {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = strictUtf8.decode(body);
    } catch {
      return { ok: false, code: 'invalid_utf8', message: 'the request body is not valid UTF-8' };
    }
  }
  const depth = nestingExceeds(text, maxDepth);
  if (depth) {
    return {
      ok: false,
      code: 'too_deep',
      message: `the request body nests objects and arrays more than ${maxDepth} levels deep`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return {
      ok: false,
      code: 'invalid_json',
      message: `the request body is not valid JSON: ${(err as Error).message}`,
    };
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether the text nests `{`/`[` deeper than `maxDepth` outside strings. One pass, no recursion. */
export function nestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}
