/**
 * Semantic layer costs and quality, each against a baseline measured in the same run:
 *  0. precision, recall, false-hit rate (and per slice, e.g. QQP's hard negatives) on labelled
 *     pairs read from files given with --pairs (JSONL of {a, b, label}, or GPTCache's JSON array
 *     of {origin, similar}), per embedder and threshold, one namespace per pair. Baseline: the
 *     same decision without the veto. The openai embedder is the mock's toy embeddings unless
 *     --embeddings-url URL [--embeddings-model M] [--embeddings-api-key K] names a real server;
 *  1. the same on the built-in pairs of bench/semantic/pairs.ts and held-out.ts;
 *  2. the index at 1k, 10k and 100k rows in one partition (512-d): event-loop time per lookup,
 *     the semantic work added to an exact miss (lookup + record), an exact hit that arrives during
 *     back-to-back lookups, agreement with an exact float scan at or above the threshold, and
 *     memory (the index's own count and the process's RSS growth). Baseline: an exact L1 lookup;
 *  3. added latency of an exact miss with semantic on (lexical; openai via the mock) against off,
 *     through real gateway processes, one request at a time, every request a fresh prompt.
 *
 *   npm run bench:semantic -- --pairs ../shared/semantic-benchmark/qqp-sample.jsonl \
 *     --pairs ../shared/semantic-benchmark/gptcache-mock_data.json
 *   (BENCH_MISSES=N requests per gateway, default 300; BENCH_ROWS=1000,10000,100000;
 *    BENCH_SECTIONS=0,2 runs only those sections)
 */
import { performance } from 'node:perf_hooks';
import { deriveCacheKey } from '../src/cache/key.js';
import { MemoryStore } from '../src/cache/memory-store.js';
import { openaiChatProtocol } from '../src/protocols/index.js';
import { checkHit } from '../src/replay/replay.js';
import { createSemanticLayer } from '../src/semantic/index.js';
import { semanticSchema } from '../src/semantic/options.js';
import { LexicalEmbedder } from '../src/semantic/lexical-embedder.js';
import { OpenAiEmbedder } from '../src/semantic/openai-embedder.js';
import type { Embedder } from '../src/semantic/types.js';
import { cosine, normalize } from '../src/semantic/types.js';
import { SemanticIndex } from '../src/semantic/vector-index.js';
import { readPairs, type ScoredPair, scorePairs, verdicts } from './semantic/labelled.js';
import { vetoSignature } from '../src/semantic/veto.js';
import { startMockUpstream } from '../test/mock-upstream/index.js';
import { jsonEntry } from '../test/stores/entries.js';
import { runBench, type ServerProcess, startGatewayProcess, startMockProcess } from './harness/processes.js';
import { heading, machineLine } from './harness/report.js';
import { HELD_OUT } from './semantic/held-out.js';
import { type Pair, PAIRS, type PairKind } from './semantic/pairs.js';

const MISSES = Number(process.env.BENCH_MISSES ?? 300);
const SCALE_ROWS = (process.env.BENCH_ROWS ?? '1000,10000,100000').split(',').map(Number);
const args = parseArgs(process.argv.slice(2));
const THRESHOLDS = [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98];


async function quality(): Promise<void> {
  for (const [name, pairs] of [
    ['tuning set (bench/semantic/pairs.ts: the lexical weights and threshold were chosen on it)', PAIRS],
    ['held-out set (bench/semantic/held-out.ts)', HELD_OUT],
  ] as const) {
    heading(`1. precision / hit rate, ${name}: ${pairs.length} pairs (${pairs.filter((p) => p.same).length} same, ${pairs.filter((p) => !p.same).length} distinct-but-close)`);
    await qualityOn(pairs);
  }
}

async function qualityOn(pairs: readonly Pair[]): Promise<void> {
  const mock = await startMockUpstream();
  try {
    const embedders: Array<[string, Embedder]> = [
      ['lexical', new LexicalEmbedder()],
      ['openai (mock embeddings)', new OpenAiEmbedder({ url: mock.openaiBaseURL, model: 'text-embedding-3-small', timeoutMs: 2000 })],
    ];
    for (const [name, embedder] of embedders) {
      const scored: Array<{ pair: Pair; similarity: number; vetoed: boolean }> = [];
      for (const pair of pairs) {
        const [a, b] = [await embedder.embed(pair.a), await embedder.embed(pair.b)];
        scored.push({ pair, similarity: cosine(a, b), vetoed: vetoSignature(pair.a, embedder.vetoTerms?.(pair.a)) !== vetoSignature(pair.b, embedder.vetoTerms?.(pair.b)) });
      }
      console.log(`\n${name}:`);
      console.log('  threshold | no veto: precision  hit rate  false hits | with veto: precision  hit rate  false hits by kind');
      for (const t of THRESHOLDS) {
        const row = (useVeto: boolean) => {
          const hits = scored.filter((s) => s.similarity >= t && !(useVeto && s.vetoed));
          const tp = hits.filter((s) => s.pair.same).length;
          const fp = hits.length - tp;
          const positives = scored.filter((s) => s.pair.same).length;
          const kinds = new Map<PairKind, number>();
          for (const s of hits) if (!s.pair.same) kinds.set(s.pair.kind, (kinds.get(s.pair.kind) ?? 0) + 1);
          return { precision: hits.length ? tp / hits.length : 1, recall: tp / positives, fp, kinds };
        };
        const plain = row(false);
        const veto = row(true);
        const kinds = [...veto.kinds].map(([k, n]) => `${k} ${n}`).join(', ') || '-';
        console.log(
          `  ${t.toFixed(2).padStart(9)} | ${pct(plain.precision).padStart(18)} ${pct(plain.recall).padStart(9)} ${String(plain.fp).padStart(11)} | ${pct(veto.precision).padStart(20)} ${pct(veto.recall).padStart(9)}  ${veto.fp} (${kinds})`,
        );
      }
      const byKind = new Map<PairKind, number[]>();
      for (const s of scored) byKind.set(s.pair.kind, [...(byKind.get(s.pair.kind) ?? []), s.similarity]);
      console.log(
        `  similarity by kind (min / median / max): ${[...byKind].map(([k, v]) => `${k} ${stats3(v)}`).join('; ')}`,
      );
    }
  } finally {
    await mock.close();
  }
}

/** Every labelled file from --pairs, per embedder and threshold. */
async function labelled(): Promise<void> {
  if (args.pairs.length === 0) {
    console.log('\n(no --pairs FILE given: section 0 skipped)');
    return;
  }
  const mock = args.embeddingsUrl ? undefined : await startMockUpstream();
  try {
    const openaiName = args.embeddingsUrl
      ? `openai-compatible ${args.embeddingsModel} at ${new URL(args.embeddingsUrl).host}`
      : 'openai-compatible, the mock upstream\'s toy embeddings (a bag of words with a synonym table, NOT a model)';
    const embedders: Array<[string, Embedder, number[]]> = [
      ['lexical (built in)', new LexicalEmbedder(), [0.7, 0.75, 0.8, 0.85, 0.9]],
      [
        openaiName,
        new OpenAiEmbedder({
          url: args.embeddingsUrl ?? (mock?.openaiBaseURL as string),
          model: args.embeddingsModel,
          apiKey: args.embeddingsApiKey,
          timeoutMs: 30_000,
          failureThreshold: 1_000_000,
        }),
        [0.8, 0.85, 0.9, 0.95],
      ],
    ];
    for (const file of args.pairs) {
      const pairs = readPairs(file);
      const slices = [...new Set(pairs.map((p) => p.slice))];
      heading(`0. ${file}: ${pairs.length} pairs, slices ${slices.map((sl) => `${sl} (${pairs.filter((p) => p.slice === sl).length}, ${pairs.filter((p) => p.slice === sl && p.label === 1).length} duplicates)`).join(', ')}`);
      for (const [name, embedder, thresholds] of embedders) {
        const started = performance.now();
        const scored = await scorePairs(pairs, embedder);
        console.log(`\n${name} (${((performance.now() - started) / 1000).toFixed(1)} s):`);
        console.log('  slice        threshold | with veto: precision  recall  false hits (rate)     | no veto: precision  recall  false hits');
        for (const slice of slices) {
          const part = scored.filter((x) => x.pair.slice === slice);
          for (const t of thresholds) printVerdictRow(slice, t, part);
        }
      }
    }
  } finally {
    await mock?.close();
  }
}

function printVerdictRow(slice: string, threshold: number, scored: ScoredPair[]): void {
  const veto = verdicts(scored, threshold);
  const plain = verdicts(scored.map((x) => ({ ...x, vetoed: false })), threshold);
  const p = (v: number) => (Number.isFinite(v) ? pct(v) : '-');
  console.log(
    `  ${slice.padEnd(12)} ${threshold.toFixed(2).padStart(9)} | ${p(veto.precision).padStart(20)} ${p(veto.recall).padStart(7)}  ${String(veto.falsePositives).padStart(4)} (${p(veto.falseHitRate).padStart(6)}) tp ${String(veto.truePositives).padStart(4)} | ${p(plain.precision).padStart(18)} ${p(plain.recall).padStart(7)}  ${String(plain.falsePositives).padStart(4)} (${p(plain.falseHitRate)})`,
  );
}

/**
 * The index at scale, one partition, 512-d. Rows are clustered unit vectors (a centre per topic
 * plus noise, as texts on a few topics embed): uniform random vectors in 512-d are the worst case
 * for any graph index and unlike any embedder's output. Queries are stored rows nudged a little
 * (the lookups that matter: at or above the threshold) and fresh vectors (misses).
 */
async function scale(): Promise<void> {
  heading('2. the index at scale, one partition, 512-d: event-loop time per lookup, work per miss, an exact hit during lookups, agreement, memory');
  const store = new MemoryStore();
  await store.set('k', jsonEntry());
  const exact = await timeIt(500, async () => {
    await store.get('k');
  });
  console.log(`  baseline exact L1 lookup (MemoryStore.get): median ${us(exact.median)}, p99 ${us(exact.p99)}`);
  const dim = 512;
  const threshold = 0.9;
  for (const rows of SCALE_ROWS) {
    const random = seeded(rows);
    const centres = Array.from({ length: 200 }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
    const vectorAt = (i: number) => {
      const centre = centres[i % centres.length] as Float32Array;
      return normalize(Float32Array.from(centre, (c) => c + (random() * 2 - 1) * 1.2));
    };
    const sample: Float32Array[] = [];
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const index = new SemanticIndex({ maxRows: rows, maxRowsPerPartition: rows, maxBytes: 2 ** 40 });
    const expiresAt = Date.now() + 3_600_000;
    const addTimes: number[] = [];
    const built = performance.now();
    for (let i = 0; i < rows; i++) {
      const vector = vectorAt(i);
      if (i % Math.max(1, Math.floor(rows / 500)) === 0) sample.push(vector);
      const started = performance.now();
      index.addSync('p', { key: `k${i}`, namespace: 'default', tags: [], expiresAt, veto: 'v', vector });
      addTimes.push(performance.now() - started);
    }
    const buildSeconds = (performance.now() - built) / 1000;
    globalThis.gc?.();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    const nudged = sample.map((v, i) => {
      const r = seeded(i + 7);
      return normalize(Float32Array.from(v, (x) => x + (r() * 2 - 1) * 0.01));
    });
    const fresh = Array.from({ length: 200 }, (_, i) => vectorAt(rows + i));
    let q = 0;
    const hitLookup = await timeIt(nudged.length, async () => {
      index.searchSync('p', nudged[q++ % nudged.length] as Float32Array, threshold, 4);
    });
    q = 0;
    const missLookup = await timeIt(fresh.length, async () => {
      index.searchSync('p', fresh[q++ % fresh.length] as Float32Array, threshold, 4);
    });
    // Agreement: each nudged query's nearest row is the row it was made from (similarity ~0.9999;
    // rows of the same topic sit near 0.4), which is what an exact scan returns: does the index
    // return it too, at or above the threshold?
    let above = 0;
    let agreed = 0;
    for (let i = 0; i < nudged.length; i++) {
      const query = nudged[i] as Float32Array;
      const own = cosine(query, sample[i] as Float32Array);
      if (own < threshold) continue;
      above++;
      const found = index.searchSync('p', query, threshold, 1)[0];
      if (found && found.similarity >= threshold && found.meta.key === `k${i * Math.max(1, Math.floor(rows / 500))}`) agreed++;
    }
    // An exact hit during lookups: lookups run back to back (each yielding once, as a request
    // does between its awaits) while exact L1 lookups are timed from another async chain.
    let running = true;
    const lookups = (async () => {
      let i = 0;
      while (running) {
        index.searchSync('p', fresh[i++ % fresh.length] as Float32Array, threshold, 4);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    const during: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      await new Promise<void>((resolve) => setImmediate(resolve));
      await store.get('k');
      during.push(performance.now() - started);
    }
    running = false;
    await lookups;
    during.sort((a, b) => a - b);
    const adds = addTimes.sort((a, b) => a - b);
    const { bytes } = index.stats();
    console.log(
      `  ${String(rows).padStart(7)} rows (${index.approximate('p') ? 'HNSW' : 'exact scan'}, built in ${buildSeconds.toFixed(1)} s):\n` +
        `    lookup, a stored row nudged: median ${ms(hitLookup.median)}, p99 ${ms(hitLookup.p99)} = ${(hitLookup.median / exact.median).toFixed(0)}x the exact lookup\n` +
        `    lookup, a miss:              median ${ms(missLookup.median)}, p99 ${ms(missLookup.p99)}\n` +
        `    add (record after a miss):   median ${ms(quantile(adds, 0.5))}, p99 ${ms(quantile(adds, 0.99))}\n` +
        `    exact hit during lookups:    median ${ms(quantile(during, 0.5))}, p99 ${ms(quantile(during, 0.99))}\n` +
        `    agreement with the exact scan at >= ${threshold}: ${agreed}/${above} = ${pct(agreed / Math.max(1, above))}\n` +
        `    memory: index count ${mib(bytes)} (${(bytes / rows).toFixed(0)} B/row), process RSS growth ${mib(rssGrowth)} (${(rssGrowth / rows).toFixed(0)} B/row)`,
    );
    await index.purge({ all: true });
  }
  const lexical = new LexicalEmbedder();
  const text = 'How do I reverse a list in Python without modifying the original list?';
  const embed = await timeIt(2000, async () => {
    lexical.embedSync(text);
  });
  console.log(`  lexical embedding of a ${text.length}-char prompt: median ${us(embed.median)}`);
}

/** The layer's own work on an exact miss, in process (no network, no other process): prepare + lookup + record. */
async function layerCost(): Promise<void> {
  heading(`3a. semantic work per exact miss, in process: ${MISSES * 2} fresh prompts into one partition (lexical)`);
  const layer = createSemanticLayer(semanticSchema.parse({ enabled: true }));
  const answer = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: 'An answer.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  };
  const entry = jsonEntry({ protocol: 'openai.chat', body: Buffer.from(JSON.stringify(answer)) });
  const keyTimes: number[] = [];
  const semanticTimes: number[] = [];
  for (let i = 0; i < MISSES * 2; i++) {
    const check = openaiChatProtocol.validate({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: missPrompt(i) }] });
    if (!check.ok) throw new Error(check.message);
    const request = check.request;
    let started = performance.now();
    const keyInput = {
      protocol: 'openai.chat' as const,
      upstream: 'u',
      scope: 's',
      namespace: 'default',
      target: { path: '/v1/chat/completions', query: [], headers: {} },
      material: openaiChatProtocol.keyMaterial(request),
    };
    const key = deriveCacheKey(keyInput);
    keyTimes.push(performance.now() - started);
    started = performance.now();
    const query = layer.prepare({ protocol: openaiChatProtocol, request, keyInput, controls: { semantic: 'on', semanticThreshold: undefined } });
    if (!query) throw new Error('semantic off');
    await layer.lookup(query, async () => undefined, (e) => checkHit(e, request, undefined));
    await layer.record(query, key, entry);
    semanticTimes.push(performance.now() - started);
  }
  const k = keyTimes.sort((a, b) => a - b);
  const t = semanticTimes.sort((a, b) => a - b);
  console.log(`  baseline: key material + exact key derivation   median ${ms(quantile(k, 0.5))}  p95 ${ms(quantile(k, 0.95))}`);
  console.log(
    `  semantic prepare + lookup + record               median ${ms(quantile(t, 0.5))}  p95 ${ms(quantile(t, 0.95))}  = ${(quantile(t, 0.5) / quantile(k, 0.5)).toFixed(1)}x  (${layer.stats().rows} rows at the end)`,
  );
}

function missPrompt(i: number): string {
  return `Question number ${i} about topic ${(i * 7919) % 1000}: what do you think?`;
}

async function addedLatency(): Promise<void> {
  heading(`3b. added latency of an exact miss through gateway processes: ${MISSES} fresh prompts, one at a time, interleaved`);
  const mock = await startMockProcess();
  const upstream = `${mock.url}/v1`;
  const gateways: Array<[string, ServerProcess]> = [
    ['semantic off (baseline)', await startGatewayProcess('off', { upstream })],
    ['semantic on, lexical', await startGatewayProcess('lexical', { upstream, semantic: { enabled: true } })],
    [
      'semantic on, openai (mock /v1/embeddings)',
      await startGatewayProcess('openai', { upstream, semantic: { enabled: true, embeddingsUrl: upstream } }),
    ],
  ];
  const results: Array<[string, { median: number; p95: number }]> = [];
  // Interleaved: each round sends one request to each gateway, so load changes hit all alike.
  const samples = gateways.map(() => [] as number[]);
  for (let i = 0; i < MISSES + 20; i++) {
    for (let g = 0; g < gateways.length; g++) {
      const [, proc] = gateways[g] as [string, ServerProcess];
      const body = JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: missPrompt(i) }],
      });
      const started = performance.now();
      const res = await fetch(`${proc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'x-mock-words': '20' },
        body,
      });
      await res.arrayBuffer();
      if (res.headers.get('x-sluice-cache') !== 'MISS') throw new Error(`expected a miss, got ${res.headers.get('x-sluice-cache')}`);
      if (i >= 20) (samples[g] as number[]).push(performance.now() - started);
    }
  }
  for (let g = 0; g < gateways.length; g++) {
    const sorted = [...(samples[g] as number[])].sort((a, b) => a - b);
    results.push([(gateways[g] as [string, ServerProcess])[0], { median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) }]);
  }
  const base = results[0]?.[1];
  for (const [name, r] of results) {
    console.log(
      `  ${name.padEnd(44)} median ${ms(r.median)}  p95 ${ms(r.p95)}  = ${(r.median / (base?.median ?? 1)).toFixed(2)}x, +${ms(r.median - (base?.median ?? 0))}`,
    );
  }
}

async function timeIt(runs: number, fn: () => Promise<void>): Promise<{ median: number; p99: number }> {
  for (let i = 0; i < Math.min(20, runs); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (x: number) => `${x.toFixed(3)} ms`;
const us = (x: number) => `${(x * 1000).toFixed(1)} µs`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function parseArgs(argv: string[]): { pairs: string[]; embeddingsUrl: string | undefined; embeddingsModel: string; embeddingsApiKey: string | undefined } {
  const out = { pairs: [] as string[], embeddingsUrl: undefined as string | undefined, embeddingsModel: 'text-embedding-3-small', embeddingsApiKey: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--pairs' && value) out.pairs.push(argv[++i] as string);
    else if (argv[i] === '--embeddings-url' && value) out.embeddingsUrl = argv[++i];
    else if (argv[i] === '--embeddings-model' && value) out.embeddingsModel = argv[++i] as string;
    else if (argv[i] === '--embeddings-api-key' && value) out.embeddingsApiKey = argv[++i];
  }
  out.embeddingsApiKey ??= process.env.EMBEDDINGS_API_KEY;
  return out;
}
const stats3 = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return `${(s[0] ?? 0).toFixed(2)}/${quantile(s, 0.5).toFixed(2)}/${(s[s.length - 1] ?? 0).toFixed(2)}`;
};

await runBench(async () => {
  console.log(`semantic bench: ${machineLine()}`);
  const only = process.env.BENCH_SECTIONS?.split(',');
  const run = (section: string) => !only || only.includes(section);
  if (run('0')) await labelled();
  if (run('1')) await quality();
  if (run('2')) await scale();
  if (run('3')) {
    await layerCost();
    await addedLatency();
  }
});
