import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveCli } from '../src/cli-options.js';
import { ConfigError, parseConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('configuration', () => {
  test('defaults: embedded in-memory cache, no Redis, port 8080 on loopback', () => {
    const config = parseConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.redis).toBeUndefined();
    expect(config.cache.mode).toBe('on');
    expect(config.upstream).toBe('https://api.openai.com/v1');
  });

  test('errors name every bad field', () => {
    const attempt = () =>
      parseConfig({ port: 'eighty', cache: { mode: 'sometimes' }, limits: { idleTimeoutMs: -1 }, bogus: 1 });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toContain('port');
    expect(message).toContain('cache.mode');
    expect(message).toContain('limits.idleTimeoutMs');
    expect(message).toContain('bogus');
  });

  test('precedence: config file < SLUICE_* env < flags', async () => {
    const yaml = file(
      'sluice.yaml',
      'port: 9001\nupstream: http://127.0.0.1:1/v1\ncache:\n  ttlSeconds: 60\n  mode: read-only\n',
    );
    const cli = await resolveCli(['serve', '--config', yaml, '--port', '9003'], {
      SLUICE_PORT: '9002',
      SLUICE_REDIS_URL: 'redis://127.0.0.1:6390',
      SLUICE_TTL: '120',
    });
    expect(cli.command).toBe('serve');
    expect(cli.config?.port).toBe(9003);
    expect(cli.config?.cache.ttlSeconds).toBe(120);
    expect(cli.config?.cache.mode).toBe('read-only');
    expect(cli.config?.redis?.url).toBe('redis://127.0.0.1:6390');
    expect(cli.config?.upstream).toBe('http://127.0.0.1:1/v1');
  });

  test('a JSON config file works, and a broken one is reported with its path', async () => {
    const json = file('sluice.json', JSON.stringify({ host: '127.0.0.2', cache: { replay: 40 } }));
    const cli = await resolveCli(['--config', json], {});
    expect(cli.config?.host).toBe('127.0.0.2');
    expect(cli.config?.cache.replay).toBe(40);
    const broken = file('broken.yaml', 'port: [1, 2\n');
    await expect(resolveCli(['--config', broken], {})).rejects.toThrow(/broken\.yaml/);
    await expect(
      resolveCli(['--config', file('bad.yaml', 'cache: { ttlSeconds: 0 }\n')], {}),
    ).rejects.toThrow(/cache\.ttlSeconds/);
  });

  test('bad flags and env values are refused with the flag or variable named', async () => {
    await expect(resolveCli(['--port', 'abc'], {})).rejects.toThrow(/--port/);
    await expect(resolveCli([], { SLUICE_SHARE_ACROSS_CREDENTIALS: 'maybe' })).rejects.toThrow(
      /SLUICE_SHARE_ACROSS_CREDENTIALS/,
    );
    await expect(resolveCli(['--no-such-flag'], {})).rejects.toThrow(ConfigError);
    await expect(resolveCli(['launch'], {})).rejects.toThrow(/unknown command/i);
    expect((await resolveCli(['--help'], {})).command).toBe('help');
  });
});

describe('the sluice command', () => {
  test('serve starts on the embedded default and answers /healthz; the credential never reaches the log', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'serve',
        '--port',
        '0',
        '--upstream-api-key',
        'sk-secret-never-logged',
      ],
      {
        cwd: process.cwd(),
        env: { ...process.env, SLUICE_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line in: ${output}`)), 15_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(output).not.toContain('sk-secret-never-logged');
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);

  test('an invalid configuration exits with code 2 and a message naming the field', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--cache-mode', 'sometimes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('cache.mode');
  }, 30_000);
});
