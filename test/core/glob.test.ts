import { globToRegExp } from '../../lambda-src/shared/glob';

describe('globs', () => {
  test.each([
    ['/app/*', '/app/x', true],
    ['/app/*', '/app/x/y', false],
    ['/app/**', '/app/x/y', true],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['a.b+c', 'a.b+c', true],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });
});

describe('glob invariants (seeded)', () => {
  const SEED = Number(process.env.GLOB_SEED ?? 20261207);
  /** Park-Miller minimal standard generator: small, seeded, reproducible. */
  function random(seed: number): () => number {
    let state = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
    return () => {
      state = (state * 48271) % 2147483647;
      return (state - 1) / 2147483646;
    };
  }
  const next = random(SEED);
  const ALPHABET = 'ab/.+^$()[]{}|\\-_:';
  const word = (max: number) => Array.from({ length: Math.floor(next() * max) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');

  test('a glob without wildcards matches exactly itself; * never crosses /; ** matches any suffix', () => {
    for (let i = 0; i < 2000; i++) {
      const literal = word(12);
      const other = word(12);
      const where = `seed ${SEED}, case ${i}: ${JSON.stringify([literal, other])}`;
      expect([where, globToRegExp(literal).test(literal)]).toEqual([where, true]);
      expect([where, globToRegExp(literal).test(other)]).toEqual([where, literal === other]);
      expect([where, globToRegExp(`${literal}*`).test(`${literal}${other}`)]).toEqual([where, !other.includes('/')]);
      expect([where, globToRegExp(`${literal}**`).test(`${literal}${other}`)]).toEqual([where, true]);
      expect([where, globToRegExp(`${literal}?`).test(`${literal}${other}`)]).toEqual([where, other.length === 1 && other !== '/']);
    }
  });
});
