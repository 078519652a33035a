import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discriminantFromSeed } from './discriminant.ts';
import { naiveOps, nucomp, nudupl, opsFor, partialBound } from './fast.ts';
import {
  discriminantOf,
  type Form,
  formsEqual,
  generatorForm,
  identityForm,
  isReduced,
  reduce,
} from './form.ts';
import { class1024Group } from './group.ts';
import { euclidWithCofactors, gcdCofactor } from './lehmer.ts';
import { naiveCompose, naiveSquare } from './naive.ts';
import { multiExp } from './pow.ts';
import { egcd } from './xgcd.ts';

const D = discriminantFromSeed(Uint8Array.of(0x76, 0x69, 0x67, 0x69, 0x6c));
const L = partialBound(D);
const gen = generatorForm(D);

/** Forms spread over the group: g^e by the naive backend. */
function formOf(e: bigint): Form {
  return multiExp(naiveOps, [gen], [e]) ?? identityForm(D);
}

const exponent = fc.bigInt({ min: 1n, max: (1n << 96n) - 1n });

describe('fast class-group operations agree with plain composition', () => {
  it('NUDUPL(f) = naive f² on random forms', () => {
    fc.assert(
      fc.property(exponent, (e) => {
        const f = formOf(e);
        const sq = nudupl(f, L);
        expect(sq).toEqual(naiveSquare(f));
        expect(isReduced(sq)).toBe(true);
        expect(discriminantOf(sq)).toBe(D);
      }),
      { numRuns: 40 },
    );
  });

  it('NUCOMP(f, g) = naive f·g, including equal, inverse and small-a operands', () => {
    fc.assert(
      fc.property(exponent, exponent, (e1, e2) => {
        const f = formOf(e1);
        const g = formOf(e2);
        expect(nucomp(f, g, L)).toEqual(naiveCompose(f, g));
        expect(nucomp(f, f, L)).toEqual(naiveSquare(f));
        expect(nucomp(f, gen, L)).toEqual(naiveCompose(f, gen));
        expect(nucomp(gen, g, L)).toEqual(naiveCompose(gen, g));
        // f · f⁻¹ = 1
        expect(nucomp(f, reduce({ a: f.a, b: -f.b, c: f.c }), L)).toEqual(identityForm(D));
      }),
      { numRuns: 30 },
    );
  });

  it('a long squaring chain stays identical to the plain one', () => {
    let x = gen;
    let y = gen;
    for (let i = 0; i < 400; i++) {
      x = nudupl(x, L);
      y = naiveSquare(y);
    }
    expect(formsEqual(x, y)).toBe(true);
    const ops = opsFor(D);
    let z = x;
    for (let i = 0; i < 3000; i++) z = ops.square(z);
    let w = x;
    for (let i = 0; i < 3000; i++) w = naiveOps.square(w);
    expect(z).toEqual(w);
  });

  it('multiExp computes ∏ f_i^e_i', () => {
    fc.assert(
      fc.property(exponent, exponent, fc.bigInt({ min: 0n, max: 1000n }), (e1, e2, k) => {
        const f = formOf(e1);
        const g = formOf(e2);
        const got = multiExp(opsFor(D), [f, g], [k, k + 3n]);
        const want = naiveCompose(
          multiExp(naiveOps, [f], [k]) ?? identityForm(D),
          multiExp(naiveOps, [g], [k + 3n])!,
        );
        expect(got).toEqual(want);
      }),
      { numRuns: 20 },
    );
  });
});

describe('Lehmer Euclid', () => {
  it('gcdCofactor matches the extended gcd', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 600n) - 1n }),
        fc.bigInt({ min: 1n, max: (1n << 600n) - 1n }),
        (x, y) => {
          const [g, u] = gcdCofactor(x, y);
          expect(g).toBe(egcd(x, y)[0]);
          expect((((u * x - g) % y) + y) % y).toBe(0n);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a partial run keeps r_i ≡ s_i·x and stops at the first remainder ≤ bound or later', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n << 400n, max: (1n << 512n) - 1n }),
        fc.bigInt({ min: 1n, max: 1n << 400n }),
        fc.bigInt({ min: 1n, max: 1n << 256n }),
        (a, c, bound) => {
          const [r0, r1, s0, s1, steps] = euclidWithCofactors(a, c, 0n, 1n, bound);
          expect(r1 <= bound).toBe(true);
          expect(r0 > r1).toBe(true);
          expect((((s0 * c - r0) % a) + a) % a).toBe(0n);
          expect((((s1 * c - r1) % a) + a) % a).toBe(0n);
          expect(steps > 0).toBe(c > bound);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('class1024Group (VdfGroup)', () => {
  const seed = Uint8Array.of(0xc1, 0x02);
  const group = class1024Group(seed);

  it('input is the generator (2, 1) encoded as 0x08', () => {
    expect(group.name).toBe('class1024');
    expect(group.elementBytes).toBe(100);
    expect(group.encode(group.input)[0]).toBe(0x08);
    expect(group.input.a).toBe(2n);
  });

  it('squareTimes, pow and mul agree; decode(encode(x)) = x', () => {
    const y = group.squareTimes(group.input, 64);
    expect(group.equal(y, group.pow(group.input, 1n << 64n))).toBe(true);
    const z = group.mul(y, group.input);
    expect(group.equal(z, group.pow(group.input, (1n << 64n) + 1n))).toBe(true);
    expect(group.equal(group.decode(group.encode(z)), z)).toBe(true);
    expect(group.equal(group.pow(z, 0n), group.identity())).toBe(true);
  });

  it('challengePrime is GetB(x, y): a 264-bit prime independent of T', () => {
    const y = group.squareTimes(group.input, 10);
    const b = group.challengePrime(10, group.input, y);
    expect(b >> 263n).toBe(1n);
    expect(group.challengePrime(11, group.input, y)).toBe(b);
  });
});
