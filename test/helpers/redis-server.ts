import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Real local redis-server processes for tests (DESIGN.md: tests run offline against real
 * servers). Everything binds 127.0.0.1; every process is killed on stop() and on exit.
 */

export interface RedisHandle {
  port: number;
  url: string;
  /** SIGKILL, as a crash would: no goodbye on open connections. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterHandle {
  /** "127.0.0.1:port" of every master. */
  nodes: string[];
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.stdin?.destroy();
  });
}

let redisChecked = false;
async function ensureRedisInstalled(): Promise<void> {
  if (redisChecked) return;
  try {
    await execFileAsync('redis-server', ['--version']);
    await execFileAsync('redis-cli', ['--version']);
  } catch {
    throw new Error(
      'redis-server / redis-cli not found on PATH. The store tests need a real Redis 7: ' +
        'install it with `sudo apt-get install -y redis-server` (or `brew install redis`).',
    );
  }
  redisChecked = true;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Send one inline command over a raw socket; resolves with whatever arrived within a short window. */
function rawCommand(port: number, command: string, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(finish, 300);
    socket.once('error', finish);
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (until(text)) finish();
    });
    socket.connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// A server with requirepass answers -NOAUTH: it is up all the same.
const answersPing = async (port: number) =>
  /^(\+PONG|-NOAUTH)/.test(await rawCommand(port, 'PING', (text) => text.includes('\r\n')));

interface ServerProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * redis-server runs under a tiny sh watchdog holding our stdin pipe: when the pipe closes,
 * because we asked (kill) or because this test process died without running exit hooks
 * (vitest kills its workers), the watchdog SIGKILLs redis. No orphans either way.
 */
// fd 3 is taken before `&`, because sh points the stdin of background jobs at /dev/null.
const WATCHDOG =
  'exec 3<&0; redis-server "$@" & pid=$!; (read line <&3; kill -9 $pid 2>/dev/null) & wait $pid';

function spawnRedis(port: number, dir: string, extraArgs: string[]): ServerProcess {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--protected-mode',
    'no',
    ...extraArgs,
  ];
  return spawnWatched(args);
}

function spawnWatched(args: string[]): ServerProcess {
  const child = spawn('sh', ['-c', WATCHDOG, 'sh', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
    child.once('error', () => {
      running.delete(child);
      resolve();
    });
  });
  return { child, exited };
}

/** Start a server and wait for PING; if it died (port taken meanwhile), report false so the caller retries. */
async function startOn(port: number, dir: string, extraArgs: string[]): Promise<ServerProcess | undefined> {
  const server = spawnRedis(port, dir, extraArgs);
  let died = false;
  void server.exited.then(() => {
    died = true;
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (died) return undefined;
    if (await answersPing(port)) return server;
    await sleep(20);
  }
  await killProcess(server);
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
}

/** SIGKILLs redis (through the watchdog) and waits until it is gone. */
async function killProcess(server: ServerProcess | undefined): Promise<void> {
  if (server === undefined) return;
  server.child.stdin?.destroy();
  await server.exited;
}

export interface RedisOptions {
  /** requirepass: the url then carries it (redis://:PASSWORD@127.0.0.1:port). */
  password?: string;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const extraArgs = options.password === undefined ? [] : ['--requirepass', options.password];
  await ensureRedisInstalled();
  killAllOnExit();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  let port = 0;
  let server: ServerProcess | undefined;
  for (let attempt = 0; attempt < 5 && server === undefined; attempt++) {
    port = await freePort();
    server = await startOn(port, dir, extraArgs);
  }
  if (server === undefined) throw new Error('could not start redis-server on a free port after 5 attempts');

  const handle: RedisHandle = {
    port,
    url:
      options.password === undefined
        ? `redis://127.0.0.1:${port}`
        : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    kill: async () => {
      await killProcess(server);
    },
    restart: async () => {
      await killProcess(server);
      // The port was ours a moment ago; retry briefly in case the kernel has not released it yet.
      for (let attempt = 0; attempt < 20; attempt++) {
        server = await startOn(port, dir, extraArgs);
        if (server !== undefined) return;
        await sleep(100);
      }
      throw new Error(`could not restart redis-server on port ${port}`);
    },
    stop: async () => {
      await killProcess(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** A cluster of `masters` nodes (no replicas), every slot assigned and cluster_state:ok everywhere. */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  await ensureRedisInstalled();
  killAllOnExit();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-cluster-'));
  const servers: ServerProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => killProcess(server)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    while (ports.length < masters) {
      const port = await freePort();
      // The cluster bus needs a second port; by default port+10000, which may be taken, so pick one.
      const busPort = await freePort();
      if (port === busPort || ports.includes(port)) continue;
      const server = await startOn(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ]);
      if (server === undefined) continue;
      servers.push(server);
      ports.push(port);
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await execFileAsync(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 30_000 },
    );
    await waitFor('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(
        ports.map((port) => rawCommand(port, 'CLUSTER INFO', (text) => text.includes('cluster_state:'))),
      );
      return infos.every((info) => info.includes('cluster_state:ok'));
    });
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A Redis Sentinel (quorum 1) watching one master, answering SENTINEL get-master-addr-by-name. */
export async function startRedisSentinel(
  masterPort: number,
  name = 'sluice-master',
): Promise<{ port: number; name: string; stop(): Promise<void> }> {
  await ensureRedisInstalled();
  killAllOnExit();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sentinel-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // Sentinel rewrites its config file, so it gets a writable one of its own.
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      `port ${port}\nbind 127.0.0.1\nprotected-mode no\ndir ${dir}\n` +
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1\nsentinel down-after-milliseconds ${name} 2000\n`,
    );
    const server = spawnWatched([conf, '--sentinel']);
    try {
      await waitFor('sentinel to know its master', async () => {
        const reply = await rawCommand(port, `SENTINEL get-master-addr-by-name ${name}`, (t) => t.includes(String(masterPort)));
        return reply.includes(String(masterPort));
      });
    } catch (err) {
      await killProcess(server);
      if (attempt === 4) throw err;
      continue;
    }
    return {
      port,
      name,
      stop: async () => {
        await killProcess(server);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('could not start redis-sentinel');
}
