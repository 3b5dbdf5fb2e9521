import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { chatBody, sleep } from './harness.js';

/**
 * Shutdown drains, through the real `sluice` command: SIGTERM with streams in flight lets them
 * finish (up to shutdownGraceMs), /healthz says 503 meanwhile, completed answers reach Redis, a
 * cut answer never does, and a second signal cuts at once. Every exit is code 0.
 */

let mock: MockUpstream;
let redis: RedisHandle;
let client: Redis;
beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis();
  client = new Redis(redis.url);
}, 30_000);
afterAll(async () => {
  client.disconnect();
  await redis.stop();
  await mock.close();
});

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; at: number }>;
  output: () => string;
}

async function startSluice(extra: string[]): Promise<Running> {
  // A generous Redis budget: this test is about the drain, not about Redis latency on a busy host.
  const config = join(mkdtempSync(join(tmpdir(), 'sluice-drain-')), 'sluice.json');
  writeFileSync(config, JSON.stringify({ redis: { url: redis.url, timeoutMs: 2000 } }));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--upstream', mock.openaiBaseURL, '--config', config, ...extra],
    {
      cwd: process.cwd(),
      env: { ...process.env, SLUICE_LOG_LEVEL: 'info', SLUICE_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in: ${output}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then(() => reject(new Error(`exited early: ${output}`)));
  });
  return { child, url, exited, output: () => output };
}

/** Start `n` distinct slow streams; resolves once each has its first byte, with its full text to come. */
async function startStreams(url: string, n: number, label: string, delayMs: number) {
  const streams = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-drain',
          'x-mock-delay-ms': String(delayMs),
          'x-mock-words': '20',
        },
        body: JSON.stringify(chatBody(`${label} ${i} ${Date.now()}`, { stream: true })),
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      return { reader, first: first.value ?? new Uint8Array() };
    }),
  );
  return streams.map(async ({ reader, first }) => {
    let text = Buffer.from(first).toString();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      return { text, error: undefined as unknown };
    } catch (error) {
      return { text, error };
    }
  });
}

const entries = async (prefix = 'sluice:e:') => (await client.keys(`${prefix}*`)).length;

describe('SIGTERM drains', () => {
  test('20 streams in flight all finish; /healthz and new requests get 503 meanwhile; exit 0; answers stored', async () => {
    await client.flushall();
    const sluice = await startSluice(['--shutdown-grace-ms', '20000']);
    const pending = await startStreams(sluice.url, 20, 'drain', 75);
    const signalledAt = Date.now();
    sluice.child.kill('SIGTERM');
    await sleep(100);
    const health = await fetch(`${sluice.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining' });
    const late = await fetch(`${sluice.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('late')),
    });
    expect(late.status).toBe(503);
    expect(await late.json()).toMatchObject({ error: { code: 'draining' } });

    const results = await Promise.all(pending);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.text).toContain('data: [DONE]');
    }
    const { code, at } = await sluice.exited;
    expect(code).toBe(0);
    // Streams of ~1.5 s: the exit waited for them, not for the 20 s grace.
    expect(at - signalledAt).toBeGreaterThan(700);
    expect(at - signalledAt).toBeLessThan(15_000);
    expect(await entries()).toBe(20);
  }, 60_000);

  test('past shutdownGraceMs the rest is cut, exit 0, and nothing half-done is stored', async () => {
    await client.flushall();
    const sluice = await startSluice(['--shutdown-grace-ms', '300']);
    const pending = await startStreams(sluice.url, 5, 'grace', 200);
    const signalledAt = Date.now();
    sluice.child.kill('SIGTERM');
    const results = await Promise.all(pending);
    const { code, at } = await sluice.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(3000);
    for (const r of results) expect(r.text).not.toContain('data: [DONE]');
    expect(await entries()).toBe(0);
  }, 60_000);

  test('a second SIGTERM cuts at once', async () => {
    await client.flushall();
    const sluice = await startSluice(['--shutdown-grace-ms', '30000']);
    const pending = await startStreams(sluice.url, 5, 'second', 300);
    sluice.child.kill('SIGTERM');
    await sleep(200);
    const secondAt = Date.now();
    sluice.child.kill('SIGINT');
    const results = await Promise.all(pending);
    const { code, at } = await sluice.exited;
    expect(code).toBe(0);
    expect(at - secondAt).toBeLessThan(1500);
    for (const r of results) expect(r.text).not.toContain('data: [DONE]');
    expect(await entries()).toBe(0);
  }, 60_000);
});
