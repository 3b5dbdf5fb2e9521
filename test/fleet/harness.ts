import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RedisClusterHandle, type RedisHandle, startRedis, startRedisCluster } from '../helpers/redis-server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

/**
 * A fleet as production runs it: several gateway *processes* (`src/cli.ts serve`, as
 * `npx sluice serve` runs it) on one real redis-server, in front of one mock upstream. Each
 * replica reaches standalone Redis through its own TCP relay, so a test can cut one replica
 * off Redis (`replica.redisLink.cut()`) while the others keep going, and can SIGKILL a
 * replica mid-answer as a crash would. On a Redis Cluster the replicas talk to the nodes
 * directly (the cluster announces its nodes' own addresses), so there is no relay.
 *
 * Every process binds 127.0.0.1 on a port chosen at run time, and is killed by close(), or
 * by the watchdog when this test process dies without running hooks.
 */

export const ADMIN_TOKEN = 'fleet-admin-token-0123456789';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Replica {
  /** 0-based position in the fleet. */
  index: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The gateway process's own pid (not the watchdog's). */
  pid: number;
  /** The replica's link to standalone Redis; undefined on a cluster. */
  redisLink: TcpRelay | undefined;
  /** Everything the process printed on stdout and stderr so far (access log and warnings). */
  output(): string;
  /** POST a JSON body with the tenant's bearer credential (and any headers given). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** An admin request with the fleet's admin token. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** Send a signal to the gateway process; SIGKILL is a crash (no drain, no goodbye to Redis). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start this replica again with the same options (a new port and pid). */
  restart(): Promise<void>;
  readonly exited: boolean;
}

export interface FleetOptions {
  /** How many gateway processes. Default 3. */
  replicas?: number;
  /** Run on a Redis Cluster of this many masters instead of one standalone redis-server. */
  clusterMasters?: number;
  /** Extra CLI flags for every replica, e.g. ['--ttl', '60']. */
  args?: string[];
  /** Extra config (merged into the JSON config file every replica gets; `redis` fields join the harness's connection). */
  config?: Record<string, unknown>;
  /** Extra environment for every replica. */
  env?: Record<string, string>;
  /** Use this mock instead of starting one (the caller closes it). */
  mock?: MockUpstream;
}

export interface Fleet {
  replicas: Replica[];
  mock: MockUpstream;
  /** Standalone Redis (undefined on a cluster). */
  redis: RedisHandle | undefined;
  cluster: RedisClusterHandle | undefined;
  close(): Promise<void>;
}

// The watchdog holds our stdin pipe: when it closes (close(), or this process died), the gateway is SIGKILLed.
// It prints the gateway's own pid first, so that signals reach the gateway and not the shell.
const WATCHDOG =
  'exec 3<&0; "$@" & pid=$!; echo "fleet-pid $pid"; (read line <&3; kill -9 $pid 2>/dev/null) & wait $pid';

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const mock = options.mock ?? (await startMockUpstream());
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-'));
  let redis: RedisHandle | undefined;
  let cluster: RedisClusterHandle | undefined;
  const replicas: Replica[] = [];
  const close = async () => {
    await Promise.all(replicas.map((replica) => replica.kill('SIGKILL')));
    await Promise.all(replicas.map((replica) => replica.redisLink?.close()));
    if (!options.mock) await mock.close();
    await redis?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (options.clusterMasters === undefined) redis = await startRedis();
    else cluster = await startRedisCluster(options.clusterMasters);
    const count = options.replicas ?? 3;
    for (let index = 0; index < count; index++) {
      const redisLink = redis === undefined ? undefined : await startTcpRelay(redis.port);
      const redisConfig =
        cluster !== undefined
          ? { cluster: { nodes: cluster.nodes } }
          : { url: `redis://127.0.0.1:${String(redisLink?.port)}` };
      const configFile = join(dir, `replica-${index}.json`);
      // Fields given under `config.redis` (timeoutMs...) join the connection the harness sets up.
      const givenRedis = (options.config?.redis ?? {}) as Record<string, unknown>;
      writeFileSync(configFile, JSON.stringify({ ...options.config, redis: { ...givenRedis, ...redisConfig } }));
      replicas.push(await startReplica(index, mock, configFile, redisLink, options));
    }
    return { replicas, mock, redis, cluster, close };
  } catch (err) {
    await close();
    throw err;
  }
}

interface ReplicaProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  exited: Promise<void>;
}

async function startReplica(
  index: number,
  mock: MockUpstream,
  configFile: string,
  redisLink: TcpRelay | undefined,
  options: FleetOptions,
): Promise<Replica> {
  let output = '';
  let exited = false;
  const launch = async (): Promise<ReplicaProcess> => {
    exited = false;
    const argv = [
      process.execPath,
      '--import',
      'tsx',
      'src/cli.ts',
      'serve',
      '--config',
      configFile,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--upstream',
      mock.openaiBaseURL,
      '--anthropic-upstream',
      mock.anthropicBaseURL,
      '--bedrock-upstream',
      mock.bedrockURL,
      '--admin-token',
      ADMIN_TOKEN,
      ...(options.args ?? []),
    ];
    const child = spawn('sh', ['-c', WATCHDOG, 'sh', ...argv], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_LOG_LEVEL: 'info', ...options.env },
    });
    const exitedPromise = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const started = await new Promise<{ pid: number; url: string }>((resolve, reject) => {
      let pid = 0;
      let pending = '';
      const timer = setTimeout(
        () => reject(new Error(`replica ${index} did not start within 30 s:\n${output.slice(-4000)}`)),
        30_000,
      );
      void exitedPromise.then(() => {
        clearTimeout(timer);
        reject(new Error(`replica ${index} exited during start-up:\n${output.slice(-4000)}`));
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output += text;
        pending += text;
        let newline = pending.indexOf('\n');
        while (newline !== -1) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
          if (pid === 0 && line.startsWith('fleet-pid ')) pid = Number(line.slice('fleet-pid '.length));
          else if (pid !== 0 && line.includes('"url"')) {
            try {
              const url = (JSON.parse(line) as { url?: unknown }).url;
              if (typeof url === 'string') {
                clearTimeout(timer);
                resolve({ pid, url });
              }
            } catch {
              // not the start-up line
            }
          }
        }
      });
    });
    return { child, exited: exitedPromise, ...started };
  };

  let current = await launch();
  const replica: Replica = {
    index,
    get url() {
      return current.url;
    },
    get pid() {
      return current.pid;
    },
    redisLink,
    output: () => output,
    post: (path, body, headers = {}) =>
      fetch(`${current.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fleet-tenant', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    admin: (method, path, body) =>
      fetch(`${current.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    kill: async (signal = 'SIGKILL') => {
      if (exited) return;
      if (signal === 'SIGKILL') current.child.stdin?.destroy();
      else process.kill(current.pid, signal);
      await current.exited;
    },
    restart: async () => {
      await replica.kill('SIGKILL');
      current = await launch();
    },
    get exited() {
      return exited;
    },
  };
  return replica;
}

export function chatBody(content = 'Say hello', extra: Record<string, unknown> = {}) {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll until check() is true or the deadline passes; returns the elapsed milliseconds. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(10);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
