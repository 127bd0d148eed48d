import { scriptLibrary, scriptSources } from './scripts';

describe('Lua scripts', () => {
  it.each(scriptSources().map((s) => [s.name, s]))('%s takes exactly the keys its file name declares', (_name, script) => {
    const used = [...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(Math.max(...used)).toBe(script.numberOfKeys);
  });

  it('expands includes once and leaves no include directive behind', () => {
    for (const script of scriptSources()) {
      expect(script.lua).not.toMatch(/--- @include/);
      expect(script.lua.match(/local function now_ms\(\)/g)).toHaveLength(1);
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

  it('builds one function library: the includes once at its top, one function per script named after the code', () => {
    const library = scriptLibrary();
    expect(library.name).toMatch(/^durabull_[0-9a-f]{12}$/);
    expect(library.code.startsWith(`#!lua name=${library.name}\n`)).toBe(true);
    expect(library.code).not.toMatch(/--- @include/);
    expect(library.code.match(/local function now_ms\(\)/g)).toHaveLength(1);
    expect(library.code.match(/local function begin_run\(/g)).toHaveLength(1);
    const registered = [...library.code.matchAll(/redis\.register_function\('(\w+)', function\(KEYS, ARGV\)/g)].map((m) => m[1]);
    expect(registered).toEqual(scriptSources().map((s) => library.functionName(s.name)));
    expect(library.functionName('startWorkflow')).toBe(`${library.name}_startWorkflow`);
  });
});
