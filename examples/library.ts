/**
 * Sluice as a library: cache an app's own OpenAI calls, streams included, without a gateway.
 *
 *   OPENAI_API_KEY=sk-... npx tsx examples/library.ts
 *   OPENAI_BASE_URL=http://localhost:8000/v1 OPENAI_API_KEY=x npx tsx examples/library.ts
 *
 * In an app, import from 'sluice' instead of '../src/index.js'.
 */
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { ResponseCache, wrapOpenAI } from '../src/index.js';

export interface ExampleResult {
  first: { text: string; cache: string | null };
  second: { text: string; cache: string | null };
  stats: ReturnType<ResponseCache['stats']>;
}

export async function main(log: (line: string) => void = console.log): Promise<ExampleResult> {
  // A MemoryStore by default; pass `store: new RedisStore({ url })` to share entries with a gateway.
  const cache = new ResponseCache({
    ttlSeconds: 600,
    prices: { 'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  });
  // The SDK reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment, as usual.
  const openai = wrapOpenAI(new OpenAI(), { cache });

  const ask = async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Name three rivers in Europe.' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return { text, cache: response.headers.get('x-sluice-cache') };
  };

  const first = await ask();
  log(`first call (${first.cache}): ${first.text}`);
  const second = await ask();
  log(`second call (${second.cache}): ${second.text}`);
  const stats = cache.stats();
  log(`saved ${stats.tokensSaved.output} output tokens, about $${stats.estimatedCostSaved.toFixed(6)}`);
  await cache.close();
  return { first, second, stats };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
