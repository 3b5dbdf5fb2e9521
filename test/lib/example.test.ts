import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { main } from '../../examples/library.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';

/** Runs the README's example against the mock, so the example cannot rot. */

let mock: MockUpstream;

beforeAll(async () => {
  mock = await startMockUpstream();
  vi.stubEnv('OPENAI_BASE_URL', mock.openaiBaseURL);
  vi.stubEnv('OPENAI_API_KEY', 'sk-example');
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await mock.close();
});

it('examples/library.ts: the second call is a hit with the same text and counted savings', async () => {
  const lines: string[] = [];
  const result = await main((line) => lines.push(line));
  expect(result.first.cache).toBe('MISS');
  expect(result.second.cache).toBe('HIT');
  expect(result.second.text).toBe(result.first.text);
  expect(result.first.text.length).toBeGreaterThan(0);
  expect(mock.stats.requests).toBe(1);
  expect(result.stats.tokensSaved.output).toBeGreaterThan(0);
  expect(result.stats.estimatedCostSaved).toBeGreaterThan(0);
  expect(lines).toHaveLength(3);
});
