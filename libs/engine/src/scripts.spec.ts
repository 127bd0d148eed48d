import { ReplyCode, scriptLibrary, scriptSources } from './scripts';

describe('Lua scripts', () => {
  it.each(scriptSources().map((s) => [s.name, s]))('%s takes exactly the keys its file name declares', (_name, script) => {
    const used = [...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(Math.max(...used)).toBe(script.numberOfKeys);
  });

  it('expands includes once and leaves no include directive behind', () => {
    for (const script of scriptSources()) {
      expect(script.lua).not.toMatch(/--- @include/);
      expect(script.lua.match(/local function now_ms\(tag\)/g)).toHaveLength(1);
    }
  });

  it('starts every run script by binding its call (a function library keeps the run locals between calls)', () => {
    for (const script of scriptSources().filter((s) => s.includes.includes('run'))) {
      expect({ script: script.name, first: script.body.replace(/^--\[\[[\s\S]*?\]\]\n/, '').split('\n')[0] }).toEqual({
        script: script.name,
        first: 'begin_run(KEYS, ARGV)',
      });
    }
  });

  it('declares the same reply codes as ReplyCode (E_NOT_FOUND is NotFound, ...)', () => {
    const codes: Record<string, number> = {};
    for (const [, names, values] of scriptLibrary().code.matchAll(/^local (E_\w+(?:, E_\w+)*) = (-?\d+(?:, -?\d+)*)$/gm)) {
      const numbers = values!.split(', ').map(Number);
      names!.split(', ').forEach((name, i) => {
        const pascal = name.slice(2).toLowerCase().replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase());
        codes[pascal] = numbers[i]!;
      });
    }
    const negative = Object.fromEntries(Object.entries(ReplyCode).filter(([, v]) => typeof v === 'number' && v < 0));
    expect(codes).toEqual(negative);
  });

  it('builds one function library: the includes once at its top, one function per script named after the code', () => {
    const library = scriptLibrary();
    expect(library.name).toMatch(/^durabull_[0-9a-f]{12}$/);
    expect(library.code.startsWith(`#!lua name=${library.name}\n`)).toBe(true);
    expect(library.code).not.toMatch(/--- @include/);
    expect(library.code.match(/local function now_ms\(tag\)/g)).toHaveLength(1);
    expect(library.code.match(/local function begin_run\(/g)).toHaveLength(1);
    const registered = [...library.code.matchAll(/redis\.register_function\('(\w+)', function\(KEYS, ARGV\)/g)].map((m) => m[1]);
    expect(registered).toEqual(scriptSources().map((s) => library.functionName(s.name)));
    expect(library.functionName('startWorkflow')).toBe(`${library.name}_startWorkflow`);
  });
});
