import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

interface PackResult {
  filename: string;
  files: { path: string }[];
}

// What a user gets from `npm install sluice`: the packed tarball (prepack builds it), installed
// in a scratch project of its own, outside this repository.
let packed: PackResult;
let scratch: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  packed = (JSON.parse(stdout) as PackResult[])[0] as PackResult;
  scratch = mkdtempSync(join(tmpdir(), 'sluice-scratch-'));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
  await run(
    'npm',
    ['install', join(dir, packed.filename), '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'],
    { cwd: scratch },
  );
}, 180_000);

describe('the published package', () => {
  test('ships LICENSE, README, the design notes and the built code', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('README.md');
    expect(paths).toContain('docs/DESIGN.md');
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/cli.js');
    expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false);
  });

  test('require("sluice") works from a CommonJS project', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-e', 'const s = require("sluice"); console.log(typeof s.ResponseCache, typeof s.wrapOpenAI, typeof s.MemoryStore)'],
      { cwd: scratch },
    );
    expect(stdout.trim()).toBe('function function function');
  });

  test('the gateway has its own entry, sluice/gateway, for require and import', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        'import { createRequire } from "node:module"; import { createGateway } from "sluice/gateway"; import * as lib from "sluice"; const cjs = createRequire(process.cwd() + "/x.js")("sluice/gateway"); console.log(typeof createGateway, cjs.createGateway === createGateway, "createGateway" in lib)',
      ],
      { cwd: scratch },
    );
    expect(stdout.trim()).toBe('function true false');
  });

  test('import from "sluice" works from an ES module', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        'import { ResponseCache, MemoryStore } from "sluice"; const c = new ResponseCache({ store: new MemoryStore() }); console.log(typeof c.stats)',
      ],
      { cwd: scratch },
    );
    expect(stdout.trim()).toBe('function');
  });

  test('require and import load the same module (no dual-package hazard)', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        'import { createRequire } from "node:module"; import * as esm from "sluice"; const cjs = createRequire(process.cwd() + "/x.js")("sluice"); console.log(cjs.ResponseCache === esm.ResponseCache)',
      ],
      { cwd: scratch },
    );
    expect(stdout.trim()).toBe('true');
  });

  test('the installed sluice command prints its version', async () => {
    const { stdout } = await run(join(scratch, 'node_modules', '.bin', 'sluice'), ['--version'], { cwd: scratch });
    expect(stdout.trim()).toBe(pkg.version);
  });
});
