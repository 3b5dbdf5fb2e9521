import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { envName, FLAGS, resolveCli, USAGE } from '../../src/cli-options.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sluice(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

describe('sluice command line', () => {
  test('--version and -v print the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const run = await sluice([flag]).done;
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(pkg.version);
    }
  }, 30_000);

  test('an unknown flag is one line naming it, then the usage; exit code 2', async () => {
    const run = await sluice(['--bogus-flag', '1']).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`sluice: unknown option --bogus-flag\n\n${USAGE}`);
  }, 30_000);

  test('a flag missing its value is named in one line', async () => {
    const run = await sluice(['--port']).done;
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe('sluice: option --port needs a value');
  }, 30_000);

  test('a port in use is one line with the address and what to do, no stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const run = await sluice(['--port', String(port)], { SLUICE_LOG_LEVEL: 'warn' }).done;
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`127.0.0.1:${port}`);
      expect(lines[0]).toMatch(/already in use/);
      expect(lines[0]).toContain('--port');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  }, 30_000);

  test('--help lists every flag with its env twin, from the table that parses them', async () => {
    const run = await sluice(['--help']).done;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(USAGE);
    const lines = USAGE.split('\n');
    for (const name of Object.keys(FLAGS)) {
      const line = lines.find((l) => l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`);
      expect(line, `--${name} missing from --help`).toBeDefined();
      expect(line).toContain(envName(name as keyof typeof FLAGS));
    }
    expect(lines.find((l) => l.includes('--config'))).toContain('SLUICE_CONFIG');
  }, 30_000);

  test('each flag in --help and its env twin set the same configuration', async () => {
    const samples: Record<string, string> = {
      upstream: 'http://127.0.0.1:9/v1',
      'anthropic-upstream': 'http://127.0.0.1:9',
      redis: 'redis://127.0.0.1:9',
      'admin-token': 'a-token-of-enough-length',
      'cache-mode': 'read-only',
      'log-level': 'debug',
      host: '127.0.0.2',
      'bedrock-upstream': 'http://127.0.0.1:9',
      'bedrock-region': 'eu-west-1',
      'gemini-upstream': 'http://127.0.0.1:9',
      'embeddings-url': 'http://127.0.0.1:9/v1',
      // Below the default ttl (3600) the cap refuses the configuration.
      'max-ttl': '2592000',
      'credential-sources': 'x-tenant,query:token',
      'otel-endpoint': 'http://127.0.0.1:4318',
    };
    const byType: Record<string, string> = { int: '7', number: '0.9', bool: 'true', onoff: 'off', replay: 'realtime' };
    const listed = [...USAGE.matchAll(/^\s+(?:-\w, )?--([a-z-]+)(?: \S+)?\s+(SLUICE_[A-Z_]+)/gm)];
    expect(listed.length).toBeGreaterThanOrEqual(Object.keys(FLAGS).length);
    for (const [, name, env] of listed as unknown as [string, string, string][]) {
      if (name === 'config') continue;
      const spec = FLAGS[name as keyof typeof FLAGS];
      expect(spec, `--help lists --${name}, which does not parse`).toBeDefined();
      expect(envName(name as keyof typeof FLAGS)).toBe(env);
      const value = samples[name] ?? byType[spec.type] ?? 'some-key-value';
      const argv = spec.type === 'bool' ? [`--${name}`] : [`--${name}`, value];
      const fromFlag = await resolveCli(argv, {});
      const fromEnv = await resolveCli([], { [env]: value });
      expect(fromFlag.config, `--${name} vs ${env}`).toEqual(fromEnv.config);
      expect(fromFlag.config).not.toEqual((await resolveCli([], {})).config);
    }
  });

  test('the start-up line says how the instance is configured, with no secret', async () => {
    const { child, done } = sluice(['--port', '0', '--admin-token', 'admin-token-never-logged'], {
      SLUICE_LOG_LEVEL: 'info',
      SLUICE_REDIS_URL: 'redis://:redis-password-never-logged@127.0.0.1:9/3',
      SLUICE_ANTHROPIC_UPSTREAM: 'http://127.0.0.1:9/anthropic',
      SLUICE_UPSTREAM_API_KEY: 'sk-upstream-never-logged',
      SLUICE_CACHE_MODE: 'read-only',
      AWS_ACCESS_KEY_ID: 'AKIAKEYIDNEVERLOGGED',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-never-logged',
      AWS_REGION: 'eu-west-1',
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    try {
      const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start-up line in ${output}`)), 20_000);
        child.stdout?.on('data', () => {
          for (const text of output.split('\n')) {
            if (!text.includes('"url"')) continue;
            clearTimeout(timer);
            resolve(JSON.parse(text) as Record<string, unknown>);
          }
        });
      });
      expect(line.upstreams).toEqual({
        openai: 'https://api.openai.com/v1',
        anthropic: 'http://127.0.0.1:9/anthropic',
        bedrock: 'https://bedrock-runtime.eu-west-1.amazonaws.com',
        gemini: 'https://generativelanguage.googleapis.com',
      });
      expect(line.upstreamKeys).toMatchObject({ bedrock: true });
      expect(line.cache).toMatchObject({ mode: 'read-only' });
      expect(line.redis).toBe('redis://127.0.0.1:9/3');
      expect(line.admin).toBe('on');
      expect(line.logLevel).toBe('info');
      expect(line.accessLog).toBe('on');
      expect(String(line.msg)).toContain('anthropic -> http://127.0.0.1:9/anthropic');
      expect(output).not.toMatch(/never-logged|NEVERLOGGED/);
    } finally {
      child.kill('SIGTERM');
      await done;
    }
  }, 40_000);
});
