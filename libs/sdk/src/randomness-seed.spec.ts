import { newRandomnessSeed } from './randomness-seed';

describe('newRandomnessSeed', () => {
  it('gives 16 hex digits, a new value each time, across refills of its pool', () => {
    const seeds = Array.from({ length: 1_500 }, () => newRandomnessSeed());
    for (const seed of seeds) expect(seed).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(seeds).size).toBe(seeds.length);
  });
});
