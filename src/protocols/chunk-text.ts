/**
 * Split text into word-sized pieces for synthesized streams: each piece is a run of
 * whitespace followed by a run of non-whitespace, so joining the pieces gives the text back.
 */
export function chunkWords(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    while (i < n && !isSpace(text.charCodeAt(i))) i++;
    pieces.push(text.slice(start, i));
    start = i;
  }
  return pieces;
}

/** Split a string (e.g. tool-call arguments JSON) into pieces of at most `size` UTF-16 units, never splitting a surrogate pair. */
export function chunkFixed(text: string, size: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13;
}
