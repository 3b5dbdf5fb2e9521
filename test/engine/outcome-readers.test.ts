import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';

/**
 * One outcome record per request (src/engine/outcome.ts): the request path writes to it through
 * `OutcomeWriter`, and only the record's sinks read it. This walks every import of the module and
 * checks who takes which name from it, so a new reader of the outcome has to be a sink, listed here.
 */

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** The sinks: they may import the reader's view (`Outcome`) and the sink type. */
const SINKS = new Set([
  'gateway/access-log.ts',
  'gateway/outcome-sinks.ts',
  'gateway/tracing.ts',
  'lib/stats.ts',
]);
/** Where a record is made and, once the answer is over, closed and handed to the sinks. */
const RECORD_OWNERS = new Set(['gateway/server.ts', 'lib/core.ts']);

const READER_NAMES = new Set(['Outcome', 'OutcomeSink']);

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test('only the record’s sinks import the outcome’s reader view; only its owners make records', async () => {
  const seen: Array<{ file: string; names: string[] }> = [];
  for (const path of await sources(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    if (file === 'engine/outcome.ts') continue;
    const text = await readFile(path, 'utf8');
    for (const match of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']*\/)?outcome\.js'/g)) {
      const names = (match[1] as string)
        .split(',')
        .map((n) => n.replace(/^\s*type\s+/, '').trim().split(/\s+as\s+/)[0] as string)
        .filter(Boolean);
      seen.push({ file, names });
      for (const name of names) {
        if (READER_NAMES.has(name)) expect(SINKS.has(file), `${file} reads the outcome (${name}) but is no sink`).toBe(true);
        if (name === 'OutcomeRecord') expect(RECORD_OWNERS.has(file), `${file} makes outcome records`).toBe(true);
      }
    }
    // No default or namespace import that would get around the names.
    expect(text, file).not.toMatch(/import\s+(?:type\s+)?(?:\*\s+as\s+\w+|\w+)\s+from\s+'[^']*\/outcome\.js'/);
  }
  // The walk saw the writers and the sinks it is meant to check.
  const files = new Set(seen.map((s) => s.file));
  for (const file of ['engine/call.ts', 'gateway/exchange.ts', 'gateway/outcome-sinks.ts', 'lib/stats.ts']) {
    expect(files, file).toContain(file);
  }
});
