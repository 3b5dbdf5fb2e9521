import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisHandle, startRedis } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { sleep } from './harness.js';

/**
 * Two `sluice serve` processes on one redis-server. Replica B is frozen (SIGSTOP) and its Redis
 * connections are killed while A writes and purges: B misses the pub/sub messages. Thawed, it
 * must catch up from the change feed (a Redis Stream) without waiting for a lookup, and when
 * the feed no longer holds its position, drop what it holds and load it again.
 */

const ADMIN = 'admin-token-semantic-fleet';
let mock: MockUpstream;
let redis: RedisHandle;
let probe: Redis;
const children: ChildProcess[] = [];

async function startSluice(config: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--upstream', mock.openaiBaseURL, '--config', config],
    { cwd: process.cwd(), env: { ...process.env, SLUICE_LOG_LEVEL: 'info', SLUICE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in: ${output}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', () => reject(new Error(`exited early: ${output}`)));
  });
  return { child, url };
}

let a: { child: ChildProcess; url: string };
let b: { child: ChildProcess; url: string };

beforeAll(async () => {
  mock = await startMockUpstream();
  redis = await startRedis();
  probe = new Redis(redis.url);
  const config = join(mkdtempSync(join(tmpdir(), 'sluice-fleet-')), 'sluice.json');
  writeFileSync(config, JSON.stringify({ redis: { url: redis.url, timeoutMs: 2000 }, semantic: { enabled: true }, adminToken: ADMIN }));
  [a, b] = await Promise.all([startSluice(config), startSluice(config)]);
}, 60_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGKILL');
    }
  }
  probe?.disconnect();
  await redis?.stop();
  await mock?.close();
});

async function ask(url: string, content: string, ns: string) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fleet', 'x-sluice-namespace': ns },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  await res.arrayBuffer();
  return { cache: res.headers.get('x-sluice-cache'), key: res.headers.get('x-sluice-key') ?? '' };
}

async function rows(url: string): Promise<number> {
  const res = await fetch(`${url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const stats = (await res.json()) as { semantic: { index: { rows: number } } };
  return stats.semantic.index.rows;
}

const rowsInRedis = async () => (await probe.keys('sluice:sem:*:r:*')).length;

/** A's answer is written, then its row: wait for the row before asking another replica. */
async function askAndShare(url: string, content: string, ns: string) {
  const before = await rowsInRedis();
  const answer = await ask(url, content, ns);
  await until(async () => (await rowsInRedis()) > before, 'the row in Redis');
  return answer;
}

async function until(condition: () => Promise<boolean>, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** B frozen and cut off from Redis while `work` runs on A; then thawed. */
async function whileBAway(work: () => Promise<void>): Promise<void> {
  const pid = b.child.pid as number;
  process.kill(pid, 'SIGSTOP');
  try {
    // Every connection but the probe's: B's sockets close while it cannot read them.
    await probe.client('KILL', 'TYPE', 'pubsub');
    await probe.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await sleep(300); // A reconnects
    await work();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  // B's connections were cut: until they are back, its first look into a partition cannot load it
  // (a failed load is forgotten and tried again at the next look, which a test asking once would miss).
  await until(async () => (await l2State(b.url)).coherence === 'linked', 'B to link to Redis again');
  // Lookups made while they came back may have opened B's circuit breaker (it skips Redis for 2 s,
  // so a semantic hit could not read its entry back): past that, the next lookup probes Redis again.
  if ((await l2State(b.url)).state === 'open') await sleep(2500);
}

async function l2State(url: string): Promise<{ state: string; coherence: string | null }> {
  const res = await fetch(`${url}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const stats = (await res.json()) as { l2: { state: string; coherence: string | null } };
  return stats.l2;
}

describe('a replica that missed changes catches up', () => {
  it('from the change feed: rows added and purged while it was away, with no lookup to trigger it', async () => {
    const ns = 'fleet-feed';
    expect((await askAndShare(a.url, 'How do I reverse a list in Python?', ns)).cache).toBe('MISS');
    expect((await ask(b.url, 'how do i reverse a list in python', ns)).cache).toBe('SEMANTIC-HIT');
    expect(await rows(b.url)).toBe(1);

    let purgedKey = '';
    await whileBAway(async () => {
      const sorted = await askAndShare(a.url, 'How do I sort a dictionary by value in Python?', ns);
      expect(sorted.cache).toBe('MISS');
      expect((await askAndShare(a.url, 'How do I merge two dictionaries in Python?', ns)).cache).toBe('MISS');
      purgedKey = sorted.key;
      const purge = await fetch(`${a.url}/admin/purge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: purgedKey }),
      });
      expect(purge.status).toBe(200);
    });

    // One row from before, one added while away; the purged one never arrives.
    await until(async () => (await rows(b.url)) === 2, 'B to apply the feed');
    await sleep(1500); // a poll or two more: nothing else arrives
    expect(await rows(b.url)).toBe(2);
    expect((await ask(b.url, 'how do i merge two dictionaries in python', ns)).cache).toBe('SEMANTIC-HIT');
    expect((await ask(b.url, 'how do i sort a dictionary by value in python', ns)).cache).not.toBe('SEMANTIC-HIT');
  }, 60_000);

  it('by dropping and reloading what it holds when the feed was trimmed past its position', async () => {
    const ns = 'fleet-gap';
    // The test before left B thawed; the same check as after a thaw, in case its lookups since opened the breaker.
    if ((await l2State(b.url)).state === 'open') await sleep(2500);
    expect((await askAndShare(a.url, 'What is the capital of Australia?', ns)).cache).toBe('MISS');
    expect((await ask(b.url, 'what is the capital of australia', ns)).cache).toBe('SEMANTIC-HIT');
    const before = await rows(b.url);

    await whileBAway(async () => {
      // The feed moves on without B: everything B had not read yet is gone from it.
      await probe.xtrim('sluice:sem:feed', 'MAXLEN', 0);
      expect((await askAndShare(a.url, 'What is the capital of New Zealand?', ns)).cache).toBe('MISS');
    });

    await until(async () => (await rows(b.url)) < before, 'B to drop the partitions it held');
    // Loaded again on first use: B answers from the row it never heard of.
    expect((await ask(b.url, 'what is the capital of new zealand', ns)).cache).toBe('SEMANTIC-HIT');
    expect((await ask(b.url, 'What is the capital of Australia', ns)).cache).toBe('SEMANTIC-HIT');
  }, 60_000);
});
