import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Child processes for benchmarks. Servers run in their own processes so that the load
 * generator, the gateway and the upstream do not share one event loop (on a 2-core box a
 * shared loop would measure the scheduler, not Sluice). Every child is stopped by its PID:
 * by `stop()`, by `stopAll()` in the bench's finally block, and on exit as a last resort.
 */

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** What the child printed as `{"url": ...}` once listening. */
  readonly url: string;
  stop(): Promise<void>;
}

const running = new Map<number, ChildProcess>();
let exitHookInstalled = false;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a file given relative to the repository root. */
export function repoPath(relative: string): string {
  return `${repoRoot}${relative}`;
}

export interface StartOptions {
  /** Extra node flags, e.g. --expose-gc. */
  nodeArgs?: string[];
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /** Give up waiting for the `{"url"}` line after this long. Default 20 s. */
  startTimeoutMs?: number;
  /**
   * The child's stdout goes to this file (as `npm start > file` would): the `{"url"}` line then
   * comes on fd 3 (BENCH_READY_FD=3), the child's own channel for it.
   */
  stdoutFile?: string;
}

/**
 * Run an entry point in its own node process: a .ts one with `node --import tsx` (not the tsx
 * CLI, which would put a second process between us and the server and make the PID the wrong
 * one to signal), a .mjs one with plain node. Waits for the JSON line it prints once ready.
 */
export async function startServerProcess(
  name: string,
  script: string,
  args: string[],
  options: StartOptions = {},
): Promise<ServerProcess> {
  installExitHook();
  // A .mjs entry is plain JavaScript for plain node; a .ts one needs the tsx loader.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, script, ...args], {
    cwd: repoRoot,
    stdio: stdoutFd === undefined ? ['ignore', 'pipe', 'inherit'] : ['ignore', stdoutFd, 'inherit', 'pipe'],
    env: { ...process.env, ...options.env, ...(stdoutFd === undefined ? {} : { BENCH_READY_FD: '3' }) },
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${script}`);
  const pid = child.pid;
  running.set(pid, child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(pid);
      resolve();
    });
  });
  const readyStream = (stdoutFd === undefined ? child.stdout : child.stdio[3]) as NodeJS.ReadableStream;
  const url = await readReadyLine(name, readyStream, exited, options.startTimeoutMs ?? 20_000).catch(
    async (err: unknown) => {
      await stopChild(pid, exited);
      throw err;
    },
  );
  return { name, pid, url, stop: () => stopChild(pid, exited) };
}

function readReadyLine(name: string, input: NodeJS.ReadableStream, exited: Promise<void>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input });
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${timeoutMs} ms`)), timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before it was ready`));
    });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { url?: unknown };
        if (typeof parsed.url === 'string') {
          clearTimeout(timer);
          resolve(parsed.url);
        }
      } catch {
        // Not the ready line; children may print other things.
      }
    });
  });
}

/** SIGTERM, then SIGKILL if the child is still there after 3 s. */
async function stopChild(pid: number, exited: Promise<void>): Promise<void> {
  if (!running.has(pid)) return;
  process.kill(pid, 'SIGTERM');
  const killTimer = setTimeout(() => {
    if (running.has(pid)) process.kill(pid, 'SIGKILL');
  }, 3000);
  await exited;
  clearTimeout(killTimer);
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running.entries()].map(
      ([pid, child]) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          process.kill(pid, 'SIGTERM');
          setTimeout(() => {
            if (running.has(pid)) process.kill(pid, 'SIGKILL');
          }, 3000).unref();
        }),
    ),
  );
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort: 'exit' handlers cannot wait, so SIGKILL whatever is left.
  process.once('exit', () => {
    for (const pid of running.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** Run a benchmark body and stop every child it started, also when it throws. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    process.exitCode = 1;
    console.error(err);
  } finally {
    await stopAll();
  }
}

/** Start the mock upstream (test/mock-upstream/cli.ts) in its own process. */
export function startMockProcess(): Promise<ServerProcess> {
  return startServerProcess('mock upstream', repoPath('test/mock-upstream/cli.ts'), ['--port', '0']);
}

/**
 * Start a Sluice gateway in its own process, from the build (dist/: the npm bench scripts build
 * first); `config` is merged over bench defaults (port 0, silent). With BENCH_PROFILE_DIR set,
 * the gateway writes a V8 CPU profile there when stopped (`extraNodeArgs` add node flags). With BENCH_SLUICE_DIST set to another
 * build (another checkout's dist/, built with `npm run build` there), the gateway is that build:
 * the same bench against an earlier version, for before/after figures.
 *
 * With `logFile`, the gateway runs with the defaults `npm start` has (log level info, access log
 * on) and its stdout goes to that file, as `npm start > file` would have it.
 */
export function startGatewayProcess(
  name: string,
  config: Record<string, unknown>,
  extraNodeArgs: string[] = [],
  logFile?: string,
): Promise<ServerProcess> {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const nodeArgs = [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...extraNodeArgs];
  const dist = process.env.BENCH_SLUICE_DIST;
  return startServerProcess(dist ? `${name} [${dist}]` : name, repoPath('bench/harness/gateway-process.mjs'), [JSON.stringify(config)], {
    nodeArgs,
    env: { ...(dist ? { SLUICE_DIST: dist } : {}), ...(logFile ? { BENCH_DEFAULT_LOGS: '1' } : {}) },
    stdoutFile: logFile,
  });
}

/**
 * Run a TypeScript script to completion in its own process (e.g. with --expose-gc) and return
 * the last JSON line it printed on stdout.
 */
export async function runScriptForJson(
  name: string,
  script: string,
  args: string[],
  nodeArgs: string[] = [],
): Promise<unknown> {
  installExitHook();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${script}`);
  const pid = child.pid;
  running.set(pid, child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (exitCode) => {
      running.delete(pid);
      resolve(exitCode);
    });
  });
  if (code !== 0) throw new Error(`${name}: exited with code ${code}`);
  const last = output.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as unknown;
}
