import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = process.cwd();
const MARKDOWN = ['README.md', 'docs/DESIGN.md', 'bench/RESULTS.md'];

/** Relative link targets of a markdown file: [text](target), without #fragments. */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] as string).split('#')[0] as string)
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
}

describe('documentation a clone or an npm install can follow', () => {
  test.each(MARKDOWN.filter((f) => existsSync(join(root, f))))(
    '%s links only to files inside the repository that exist',
    (file) => {
      const links = relativeLinks(readFileSync(join(root, file), 'utf8'));
      for (const target of links) {
        const resolved = normalize(join(dirname(join(root, file)), target));
        expect(resolved.startsWith(root), `${file} links outside the repository: ${target}`).toBe(true);
        expect(existsSync(resolved), `${file} links to a missing file: ${target}`).toBe(true);
      }
    },
  );

  test('the README links the design notes kept in the repository', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/DESIGN.md)');
    expect(readme).not.toContain('../shared');
  });

  test('the README says which configuration source wins', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/flags win over (the )?environment variables?, which win over the config file/i);
  });
});

/**
 * DESIGN.md section 1's layout table: for each folder row (`src/sse/`, `src/cache/`...), every
 * import of another part of `src/` is one its "may import" cell allows. A cell lists folders
 * (`sse/`), files (`errors.ts`, `protocols/key-headers.ts`), each optionally followed by "types"
 * (type-only imports), or says "nothing of ours". Rows that join or use everything (engine,
 * gateway, lib, cli) are not checked.
 */
describe('DESIGN.md layout table', () => {
  const CHECKED = ['sse', 'protocols', 'cache', 'capture', 'replay', 'semantic', 'stats'];
  const design = readFileSync(join(root, 'docs/DESIGN.md'), 'utf8');

  function allowed(folder: string): Array<{ target: string; typesOnly: boolean }> {
    const row = design.split('\n').find((line) => line.startsWith(`| \`src/${folder}/\` |`));
    if (row === undefined) throw new Error(`DESIGN.md has no row for src/${folder}/`);
    const cell = row.split('|').at(-2)?.trim() ?? '';
    if (cell === 'nothing of ours') return [];
    return [...cell.matchAll(/`([^`]+)`( types)?/g)].map((m) => ({ target: m[1] as string, typesOnly: m[2] !== undefined }));
  }

  function filesUnder(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  }

  test.each(CHECKED)('src/%s/ imports only what its row allows', (folder) => {
    const rules = allowed(folder);
    const src = join(root, 'src');
    for (const file of filesUnder(join(src, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)) {
        const target = relative(src, normalize(join(dirname(file), m[2] as string))).replace(/\.js$/, '.ts');
        if (target.startsWith(`${folder}/`)) continue;
        const typesOnly = m[1] !== undefined;
        const ok = rules.some(
          (r) => (r.target.endsWith('/') ? target.startsWith(r.target) : target === r.target) && (typesOnly || !r.typesOnly),
        );
        expect(ok, `${relative(root, file)} imports ${target}${typesOnly ? ' (types)' : ''}, which the src/${folder}/ row does not allow`).toBe(
          true,
        );
      }
    }
  });
});
