import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * README: `npm test` works as written on a fresh machine. npm runs `pretest` first, which finds
 * redis-server, chromium and curl; installs what is missing with apt-get as root on Debian or
 * Ubuntu (as .ci/run always did); otherwise stops with one line naming the install command.
 */

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

function prerequisites(env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test-prerequisites.ts'], {
    env: { HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npm test checks its prerequisites first', () => {
  test('package.json runs the check as pretest, and test stays the suite', () => {
    expect(pkg.scripts.pretest).toBe('tsx scripts/test-prerequisites.ts');
    expect(pkg.scripts.test).toBe('vitest run');
  });

  test(".ci/run runs exactly the README's test command, on every Node it tests", () => {
    const ci = readFileSync('.ci/run', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toMatch(/^npm test\b/m);
    const runs = ci.split('\n').filter((line) => /\b(vitest|npm (run )?test)\b/.test(line) && !line.trim().startsWith('#'));
    expect(runs.map((line) => line.trim().replace(/^PATH="[^"]+" /, ''))).toEqual(['npm test', 'npm test']);
  });

  test('on this machine everything is there: silent success', () => {
    const run = prerequisites({ PATH: process.env.PATH ?? '' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  }, 60_000);

  test('nothing found and no apt-get to install it: one line naming the install command, exit 1', () => {
    // A PATH with nothing on it: no redis-server, no curl, no apt-get; chromium pointed elsewhere.
    const empty = mkdtempSync(join(tmpdir(), 'sluice-prereq-'));
    const run = prerequisites({ PATH: empty, SLUICE_CHROMIUM: join(empty, 'chromium') });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/redis-server/);
    expect(lines[0]).toMatch(/chromium/);
    expect(lines[0]).toMatch(/apt-get install -y redis-server chromium curl|brew install/);
  }, 60_000);
});
