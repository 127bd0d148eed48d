import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The layering of the libraries, as a checked fact: each library imports only the libraries
 * below it (common ← engine ← sdk ← testing, opentelemetry), none imports an app or a test
 * suite, no library has an import cycle (type-only imports included), and public barrels list
 * their exports.
 */
const ROOT = join(__dirname, '..', '..', '..');
const ALLOWED: Record<string, string[]> = {
  common: [],
  engine: ['common'],
  sdk: ['common', 'engine'],
  testing: ['sdk'],
  opentelemetry: ['sdk'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * The module specifiers a file depends on, as TypeScript's parser reads them (so never from
 * comments or strings): import and re-export declarations (`import type` and `export type`
 * included), side-effect imports, `import x = require('...')`, dynamic `import('...')` and type
 * references `import('...').T`. Type-only imports count: a cycle through types still ties the
 * files' designs together, and becomes a runtime cycle with the next value import.
 */
function imports(file: string, code = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) literal(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('library layering', () => {
  const libs = readdirSync(join(ROOT, 'libs'));

  it('finds every kind of import, type-only ones included, and none in comments or strings', () => {
    const code = [
      "import { a } from './value';",
      "import type { B } from './type-only';",
      "import { type C } from './inline-type';",
      "export type { D } from './re-exported-type';",
      "export { e } from './re-exported';",
      "import './side-effect';",
      "import f = require('./required');",
      "type G = import('./type-reference').G;",
      "const h = () => import('./dynamic');",
      "// import { x } from './in-a-comment';",
      "const text = \"import { y } from './in-a-string'\";",
    ].join('\n');
    expect(imports('example.ts', code)).toEqual([
      './value',
      './type-only',
      './inline-type',
      './re-exported-type',
      './re-exported',
      './side-effect',
      './required',
      './type-reference',
      './dynamic',
    ]);
  });

  it('knows every library', () => {
    expect(libs.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(Object.entries(ALLOWED))('%s imports only the libraries below it', (lib, allowed) => {
    const found = new Set<string>();
    for (const file of sources(join(ROOT, 'libs', lib, 'src'))) {
      for (const specifier of imports(file)) {
        const match = /^@durabull\/([a-z-]+)/.exec(specifier);
        if (match && match[1] !== lib) found.add(match[1]!);
        expect(specifier).not.toMatch(/(^|\/)(apps|tests|tools)\//);
      }
    }
    for (const dependency of found) expect(allowed).toContain(dependency);
  });

  it.each(Object.keys(ALLOWED))('%s has no import cycle, type-only imports included', (lib) => {
    const src = join(ROOT, 'libs', lib, 'src');
    const graph = new Map<string, string[]>();
    for (const file of sources(src)) {
      const local = imports(file)
        .filter((s) => s.startsWith('.'))
        .map((s) => [resolve(dirname(file), `${s}.ts`), resolve(dirname(file), s, 'index.ts')].find((p) => graph.has(p) || safeIsFile(p)))
        .filter((p): p is string => p !== undefined);
      graph.set(file, local);
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it.each(Object.keys(ALLOWED))('%s lists its public exports (no export *)', (lib) => {
    const barrel = readFileSync(join(ROOT, 'libs', lib, 'src', 'index.ts'), 'utf8');
    expect(barrel).not.toMatch(/^export \* from/m);
  });
});

function safeIsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
