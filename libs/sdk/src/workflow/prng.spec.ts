import { Prng } from './prng';

describe('Prng', () => {
  it('draws the sequence recorded for a seed, whatever the order of next() and uuid4()', () => {
    // Drawn when the generator was seeded eagerly; runs recorded then must replay the same values.
    const prng = new Prng('658a7c92c6be0148');
    expect([prng.next(), prng.next(), prng.uuid4(), prng.next()]).toEqual([
      0.12880037538707256, 0.7619932659436017, '8296e17c-7cd3-403f-8180-8fbfc0bd5326', 0.6810353191103786,
    ]);
  });

  it('gives two generators of one seed the same numbers, and of different seeds different ones', () => {
    const [a, b, c] = [new Prng('s'), new Prng('s'), new Prng('t')];
    const draw = (prng: Prng) => Array.from({ length: 5 }, () => prng.next());
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
  });
});
