import { scriptSources } from './scripts';

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
});
