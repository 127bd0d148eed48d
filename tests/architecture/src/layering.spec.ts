import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering of the libraries, as a checked fact: each library imports only the libraries
 * below it (common ← engine ← sdk ← testing, opentelemetry), none imports an app or a test
 * suite, no library has an import cycle, and public barrels list their exports.
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
 * The module specifiers of a file's import and re-export statements (not of comments); with
 * `runtime`, only those that load code (not `import type`), which are the ones that can cycle.
 */
function imports(file: string, runtime = false): string[] {
  const code = readFileSync(file, 'utf8');
  return [...code.matchAll(/^\s*(import|export)(\s+type)?\b[^;]*?\bfrom\s+'([^']+)'/gms)]
    .filter((m) => !runtime || m[2] === undefined)
    .map((m) => m[3]!);
}

describe('library layering', () => {
  const libs = readdirSync(join(ROOT, 'libs'));

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

  it.each(Object.keys(ALLOWED))('%s has no runtime import cycle', (lib) => {
    const src = join(ROOT, 'libs', lib, 'src');
    const graph = new Map<string, string[]>();
    for (const file of sources(src)) {
      const local = imports(file, true)
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
