import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createUpstreamAgent } from '../../src/gateway/upstream.js';
import { chatBody, type Harness, startHarness } from './harness.js';

/**
 * No hidden capacity cap: with a capped upstream pool, request N+1 waits for a whole stream to
 * end before its first byte (the old cap of 256 made stream 257 wait; real streams last tens of
 * seconds). 1,000 concurrent distinct slow streams must all get their first byte long before any
 * of them could have ended. The clients leave after their first byte, which aborts the streams,
 * so the test takes only as long as it takes to open them.
 */

const STREAMS = 1000;
// Each stream would last WORDS × DELAY_MS = 20 minutes after its first byte: a request queued
// behind one never gets its first byte within the test, whatever the machine's speed.
const WORDS = 10;
const DELAY_MS = 120_000;
// Opening 1,000 streams through three in-process servers (client, gateway, mock) takes 2-3 s on
// an idle 2-core machine and up to ~30 s on one shared by several test runs; the bound only has
// to tell "slow to open" from "waiting behind a stream", which never ends here.
const PROMPT_MS = 60_000;

let h: Harness;
beforeAll(async () => {
  const soft = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  if (Number.isFinite(soft) && soft < 5 * STREAMS) {
    throw new Error(`this test needs ${5 * STREAMS} file descriptors, ulimit -n is ${soft} (raise it: ulimit -n 65536)`);
  }
  h = await startHarness();
});
afterAll(async () => h.close());

/**
 * POST a stream request; resolves at its first body byte, then leaves (which aborts the stream).
 * Resolves Infinity when no byte came within PROMPT_MS.
 */
function firstByteOf(agent: Agent, i: number, started: number): Promise<number> {
  const { port } = new URL(h.url);
  const body = JSON.stringify(chatBody(`pool stream ${i} ${Date.now()}`, { stream: true }));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/chat/completions',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-pool',
          'x-mock-words': String(WORDS),
          'x-mock-delay-ms': String(DELAY_MS),
        },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.once('data', () => {
          clearTimeout(timer);
          resolve(performance.now() - started);
          res.destroy();
        });
      },
    );
    const timer = setTimeout(() => {
      resolve(Infinity);
      req.destroy();
    }, PROMPT_MS - (performance.now() - started));
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

test(`${STREAMS} concurrent distinct slow streams all get their first byte promptly`, async () => {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const started = performance.now();
  const times = await Promise.all(Array.from({ length: STREAMS }, (_, i) => firstByteOf(agent, i, started)));
  agent.destroy();
  times.sort((a, b) => a - b);
  const waiting = times.filter((t) => t === Infinity).length;
  const summary = `median ${Math.round(times[STREAMS / 2] ?? 0)} ms, slowest ${Math.round(times.at(-1) ?? 0)} ms`;
  console.log(`first byte of ${STREAMS} streams: ${summary}`);
  expect(waiting, `${waiting} of ${STREAMS} streams got no first byte within ${PROMPT_MS} ms (${summary})`).toBe(0);
}, 120_000);

test('the pool size is a setting; 0 (the default) means no cap', () => {
  const limits = { connectTimeoutMs: 1000, idleTimeoutMs: 1000, maxStreamDurationMs: 1000, maxResponseBytes: 1 };
  expect(() => createUpstreamAgent({ ...limits, maxUpstreamConnections: 0 }).close()).not.toThrow();
  expect(() => createUpstreamAgent({ ...limits, maxUpstreamConnections: 32 }).close()).not.toThrow();
});
