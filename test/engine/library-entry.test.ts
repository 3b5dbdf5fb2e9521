import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * `import { ResponseCache } from 'sluice'` must load nothing of the gateway: no file under
 * src/gateway/ and none of the server-side packages. Walks the static import graph of the
 * library entry (type-only imports excluded: they vanish at run time).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SERVER_PACKAGES = ['pino', 'prom-client', 'undici'];

function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const typeOnly =
        clause?.isTypeOnly ||
        (clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) out.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
      const named = statement.exportClause;
      const allTypes = named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      if (!allTypes) out.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  };
  visit(join(ROOT, entry));
  return { files, packages };
}

describe('the library entry', () => {
  it('reaches no file under src/gateway/ and no server-side package', () => {
    const { files, packages } = graph('src/index.ts');
    const reached = [...files].map((f) => relative(ROOT, f));
    expect(reached).toContain('src/engine/engine.ts');
    expect(reached.filter((f) => f.startsWith('src/gateway/'))).toEqual([]);
    expect([...packages].filter((p) => SERVER_PACKAGES.includes(p))).toEqual([]);
  });

  it('the gateway entry does reach the gateway (the walk sees through re-exports)', () => {
    const { files, packages } = graph('src/gateway/index.ts');
    expect([...files].some((f) => relative(ROOT, f) === 'src/gateway/server.ts')).toBe(true);
    expect(packages.has('undici')).toBe(true);
  });
});
