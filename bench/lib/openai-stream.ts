/**
 * Builds a realistic OpenAI `chat.completion.chunk` SSE stream in memory, for benchmarks.
 * Deterministic (a tiny LCG instead of Math.random) so every run measures the same bytes.
 */

const WORDS = [
  ' the',
  ' cache',
  ' stream',
  ' token',
  ' answer',
  ' model',
  ' request',
  ' latency',
  ' of',
  ' and',
  ' to',
  ' is',
  ' a',
  ' server',
  ' event',
  ' bytes',
  ' response',
  ' quickly',
  ' because',
  ' which',
  ' replay',
  ' gateway',
  ' \\"quoted\\"',
  '.\\n\\n',
  ',',
  ' JSON',
  ' function',
  ' returns',
  ' value',
  ' it',
];

export interface GeneratedStream {
  bytes: Uint8Array;
  /** Number of SSE events in the stream, `[DONE]` included. */
  eventCount: number;
}

export function generateOpenAiChunkStream(minBytes: number): GeneratedStream {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  let seed = 42;
  const nextRandom = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  let eventCount = 0;
  let completion = 0;
  while (total < minBytes) {
    completion++;
    const id = `chatcmpl-${(nextRandom() * 7919).toString(36).padEnd(29, 'x').slice(0, 29)}`;
    const created = 1732000000 + completion;
    const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"gpt-4o-mini","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":`;
    const pieces: string[] = [
      `data: ${head}{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}\n\n`,
    ];
    const words = 200 + (nextRandom() % 300);
    for (let w = 0; w < words; w++) {
      const word = WORDS[nextRandom() % WORDS.length] ?? ' x';
      pieces.push(`data: ${head}{"content":"${word}"},"logprobs":null,"finish_reason":null}]}\n\n`);
    }
    pieces.push(`data: ${head}{},"logprobs":null,"finish_reason":"stop"}]}\n\n`);
    const chunk = encoder.encode(pieces.join(''));
    parts.push(chunk);
    total += chunk.length;
    eventCount += pieces.length;
  }
  const done = encoder.encode('data: [DONE]\n\n');
  parts.push(done);
  total += done.length;
  eventCount++;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, eventCount };
}

/** Views of `bytes` in pieces of `pieceSize` (no copies), as Node Buffers like a socket would deliver. */
export function splitIntoPieces(bytes: Uint8Array, pieceSize: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceSize) {
    pieces.push(Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(pieceSize, bytes.length - at)));
  }
  return pieces;
}
