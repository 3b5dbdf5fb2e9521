import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
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
