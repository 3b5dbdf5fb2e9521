import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { envName, FLAGS, resolveCli, USAGE } from '../../src/cli-options.js';

/** What a user meets in the first hour: start-up with a developer machine's environment, the TTL cap. */

describe('AWS variables picked up from the environment', () => {
  test('an access key id without its secret does not stop the gateway: one warning names the missing variable', async () => {
    const cli = await resolveCli([], { AWS_ACCESS_KEY_ID: 'AKIASTRAY' });
    expect(cli.config?.bedrock.accessKeyId).toBeUndefined();
    expect(cli.warnings).toHaveLength(1);
    expect(cli.warnings?.[0]).toContain('AWS_SECRET_ACCESS_KEY');
    expect(cli.warnings?.[0]).not.toContain('AKIASTRAY');
  });

  test('a secret without its key id: the warning names AWS_ACCESS_KEY_ID', async () => {
    const cli = await resolveCli([], { AWS_SECRET_ACCESS_KEY: 'stray-secret' });
    expect(cli.config?.bedrock.secretAccessKey).toBeUndefined();
    expect(cli.warnings).toEqual([expect.stringContaining('AWS_ACCESS_KEY_ID')]);
    expect(cli.warnings?.[0]).not.toContain('stray-secret');
  });

  test('a complete pair is used, with no warning', async () => {
    const cli = await resolveCli([], { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' });
    expect(cli.config?.bedrock).toMatchObject({ accessKeyId: 'AKIA', secretAccessKey: 's' });
    expect(cli.warnings ?? []).toEqual([]);
  });

  test('a half pair written in the config file is still an error: it was asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-first-hour-'));
    const file = join(dir, 'half.json');
    writeFileSync(file, JSON.stringify({ bedrock: { accessKeyId: 'AKIA' } }));
    await expect(resolveCli(['--config', file], {})).rejects.toThrow(/bedrock/);
  });

  test('the process starts and prints the one warning line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--port', '0'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIASTRAY', AWS_SECRET_ACCESS_KEY: '', SLUICE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not started: ${stdout} ${stderr}`)), 25_000);
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          if (stdout.includes('"url"')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      const warnings = stderr.split('\n').filter((l) => l.includes('AWS_'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^sluice: warning: .*AWS_SECRET_ACCESS_KEY/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 40_000);
});

describe('config fields a user needs at start have a flag and an env twin', () => {
  test('--max-ttl raises the cap, so a 30-day --ttl starts', async () => {
    await expect(resolveCli(['--ttl', '2592000'], {})).rejects.toThrow(/maxTtlSeconds/);
    const cli = await resolveCli(['--ttl', '2592000', '--max-ttl', '2592000'], {});
    expect(cli.config?.cache).toMatchObject({ ttlSeconds: 2592000, maxTtlSeconds: 2592000 });
    const env = await resolveCli([], { SLUICE_TTL: '2592000', [envName('max-ttl')]: '2592000' });
    expect(env.config?.cache.maxTtlSeconds).toBe(2592000);
  });

  test.each([
    ['max-ttl', ['cache', 'maxTtlSeconds'], '2592000', 2592000],
    ['memory-max-bytes', ['cache', 'memoryMaxBytes'], '1000000', 1000000],
    ['max-entry-bytes', ['cache', 'maxEntryBytes'], '1000000', 1000000],
    ['credential-sources', ['cache', 'credentialSources'], 'x-tenant, query:token', ['x-tenant', 'query:token']],
    ['complete-on-disconnect', ['cache', 'completeOnDisconnect'], 'true', true],
    ['max-request-body-bytes', ['limits', 'maxRequestBodyBytes'], '1000', 1000],
    ['idle-timeout-ms', ['limits', 'idleTimeoutMs'], '5000', 5000],
    ['max-stream-duration-ms', ['limits', 'maxStreamDurationMs'], '5000', 5000],
    ['max-response-bytes', ['limits', 'maxResponseBytes'], '5000', 5000],
  ] as const)('--%s sets %j', async (flag, path, raw, value) => {
    expect(USAGE).toContain(`--${flag}`);
    const spec = FLAGS[flag];
    const argv = spec.type === 'bool' ? [`--${flag}`] : [`--${flag}`, raw];
    const fromFlag = await resolveCli(argv, {});
    const fromEnv = await resolveCli([], { [envName(flag)]: raw });
    let got: unknown = fromFlag.config;
    for (const part of path) got = (got as Record<string, unknown>)[part];
    expect(got).toEqual(value);
    expect(fromEnv.config).toEqual(fromFlag.config);
  });
});
