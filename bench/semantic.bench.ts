/**
 * Semantic layer costs and quality, each against a baseline measured in the same run:
 *  1. precision and hit rate on the labelled pairs of bench/semantic/pairs.ts, per embedder
 *     (lexical; openai = the OpenAI-compatible client against the mock's toy /v1/embeddings) and
 *     threshold, with and without the lexical veto. Baseline: the same decision without the veto;
 *  2. lookup latency of the in-process scan at 1k, 10k and 100k rows in one partition, for 512-d
 *     (lexical) and 1536-d (text-embedding-3-small) vectors. Baseline: an exact L1 lookup (MemoryStore.get);
 *  3. added latency of an exact miss with semantic on (lexical; openai via the mock) against off,
 *     through real gateway processes, one request at a time, every request a fresh prompt.
 *
 *   npm run bench:semantic        (BENCH_MISSES=N requests per gateway, default 300)
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
import { vetoSignature } from '../src/semantic/veto.js';
import { startMockUpstream } from '../test/mock-upstream/index.js';
import { jsonEntry } from '../test/stores/entries.js';
import { runBench, type ServerProcess, startGatewayProcess, startMockProcess } from './harness/processes.js';
import { heading, machineLine } from './harness/report.js';
import { HELD_OUT } from './semantic/held-out.js';
import { type Pair, PAIRS, type PairKind } from './semantic/pairs.js';

const MISSES = Number(process.env.BENCH_MISSES ?? 300);
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

async function scan(): Promise<void> {
  heading('2. lookup latency: exact scan of one partition (median / p99 of 200 searches, 30 at 100k rows)');
  const store = new MemoryStore();
  await store.set('k', jsonEntry());
  const exact = await timeIt(200, async () => {
    await store.get('k');
  });
  console.log(`  baseline exact L1 lookup (MemoryStore.get): median ${us(exact.median)}, p99 ${us(exact.p99)}`);
  for (const dim of [512, 1536]) {
    for (const rows of [1_000, 10_000, 100_000]) {
      const index = new SemanticIndex({ maxRows: rows + 1, maxRowsPerPartition: rows + 1, maxBytes: 2 ** 40 });
      const random = seeded(dim * rows);
      const expiresAt = Date.now() + 3_600_000;
      for (let i = 0; i < rows; i++) {
        const vector = normalize(Float32Array.from({ length: dim }, () => random() * 2 - 1));
        index.addSync('p', { key: `k${i}`, namespace: 'default', tags: [], expiresAt, veto: 'v', vector });
      }
      const queries = Array.from({ length: 200 }, () => normalize(Float32Array.from({ length: dim }, () => random() * 2 - 1)));
      let q = 0;
      // Fewer searches where each takes a second: the median is stable long before 200.
      const runs = rows * dim > 10_000_000 ? 30 : 200;
      const t = await timeIt(runs, async () => {
        index.searchSync('p', queries[q++ % queries.length] as Float32Array, 0.8, 4);
      });
      const mb = (index.stats().bytes / 1024 / 1024).toFixed(0);
      console.log(
        `  ${String(dim).padStart(4)}-d x ${String(rows).padStart(7)} rows (${mb.padStart(4)} MB): median ${ms(t.median)}, p99 ${ms(t.p99)}  = ${(t.median / exact.median).toFixed(0)}x the exact lookup`,
      );
    }
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
const stats3 = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return `${(s[0] ?? 0).toFixed(2)}/${quantile(s, 0.5).toFixed(2)}/${(s[s.length - 1] ?? 0).toFixed(2)}`;
};

await runBench(async () => {
  console.log(`semantic bench: ${machineLine()}`);
  await quality();
  await scan();
  await layerCost();
  await addedLatency();
});
