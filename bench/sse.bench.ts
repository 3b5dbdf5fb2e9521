/**
 * SSE codec throughput: eventsource-parser 3 (baseline) vs our full decoder vs our boundary
 * scanner, on a realistic OpenAI chat.completion.chunk stream, fed in 16 KiB and 256 B pieces.
 * Prints MB/s (median of RUNS runs after WARMUPS warm-up runs) and ratios to the baseline
 * measured in the same run. Prints, never asserts. Run: npm run bench:sse
 */
import { cpus } from 'node:os';
import { createParser } from 'eventsource-parser';
import { createSseBoundaryScanner } from '../src/sse/boundary-scanner.js';
import { createSseDecoder } from '../src/sse/decoder.js';
import { measureInterleaved, megabytesPerSecond } from './lib/measure.js';
import { generateOpenAiChunkStream, splitIntoPieces } from './lib/openai-stream.js';

const STREAM_BYTES = 20 * 1024 * 1024;
const PIECE_SIZES = [16 * 1024, 256];
const WARMUPS = 3;
const RUNS = 9;

const { bytes, eventCount } = generateOpenAiChunkStream(STREAM_BYTES);
console.log(
  `SSE codec benchmark: ${(bytes.length / 1e6).toFixed(1)} MB, ${eventCount} events, ` +
    `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`,
);
console.log(
  `MB/s = median of ${RUNS} runs after ${WARMUPS} warm-up rounds, the three contenders interleaved\n`,
);

/** Baseline: how a JS client typically parses SSE (streaming TextDecoder + eventsource-parser). */
function runEventsourceParser(pieces: readonly Uint8Array[]): number {
  let events = 0;
  let dataChars = 0;
  const parser = createParser({
    onEvent: (event) => {
      events++;
      dataChars += event.data.length;
    },
  });
  const decoder = new TextDecoder();
  for (const piece of pieces) parser.feed(decoder.decode(piece, { stream: true }));
  return dataChars > 0 ? events : -1;
}

function runDecoder(pieces: readonly Uint8Array[]): number {
  let events = 0;
  let dataChars = 0;
  const decoder = createSseDecoder();
  for (const piece of pieces) {
    for (const event of decoder.feed(piece)) {
      events++;
      dataChars += event.data.length;
    }
  }
  if (decoder.end() !== null) throw new Error('decoder: stream should have ended on a frame boundary');
  return dataChars > 0 ? events : -1;
}

function runScanner(pieces: readonly Uint8Array[]): number {
  let frames = 0;
  let lastEnd = 0;
  const scanner = createSseBoundaryScanner();
  for (const piece of pieces) {
    const ends = scanner.feed(piece);
    frames += ends.length;
    lastEnd = ends.length > 0 ? (ends[ends.length - 1] ?? lastEnd) : lastEnd;
  }
  if (scanner.end() !== null) throw new Error('scanner: stream should have ended on a frame boundary');
  return lastEnd === bytes.length ? frames : -1;
}

const rows: string[] = [];
for (const pieceSize of PIECE_SIZES) {
  const pieces = splitIntoPieces(bytes, pieceSize);
  const { baseline, decoder, scanner } = measureInterleaved(
    {
      baseline: () => runEventsourceParser(pieces),
      decoder: () => runDecoder(pieces),
      scanner: () => runScanner(pieces),
    },
    { warmups: WARMUPS, runs: RUNS },
  );
  const counts = [baseline.result, decoder.result, scanner.result];
  const countsMatch = counts.every((count) => count === eventCount);
  const baseMbps = megabytesPerSecond(bytes.length, baseline.medianMs);
  const line = (name: string, m: { medianMs: number; result: number }): string => {
    const mbps = megabytesPerSecond(bytes.length, m.medianMs);
    return `  ${name.padEnd(36)} ${mbps.toFixed(0).padStart(6)} MB/s  ${(mbps / baseMbps).toFixed(2).padStart(6)}x  (${m.result} events)`;
  };
  const label = pieceSize >= 1024 ? `${pieceSize / 1024} KiB` : `${pieceSize} B`;
  rows.push(`pieces of ${label} (${pieces.length} feeds), event counts ${countsMatch ? 'match' : 'DIFFER'}:`);
  rows.push(line('(a) eventsource-parser + TextDecoder', baseline));
  rows.push(line('(b) sluice full decode', decoder));
  rows.push(line('(c) sluice boundary scan', scanner));
  rows.push('');
}
console.log(rows.join('\n'));
