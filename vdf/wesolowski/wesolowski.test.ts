import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naivePow } from '../rsa2048/arith.ts';
import { canonical, rsa2048Group } from '../rsa2048/group.ts';
import { N } from '../rsa2048/modulus.ts';
import { proofParams } from './params.ts';
import { prove } from './prove.ts';
import { verifyWesolowski } from './verify.ts';

/** Checkpoints computed directly, independent of the solver. */
function checkpoints(g: ReturnType<typeof rsa2048Group>, T: number, interval: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i * interval < T; i++) out.push(g.squareTimes(g.input, i * interval));
  return out;
}

describe('Wesolowski prover (bucket method) over rsa2048', () => {
  it('equals x^floor(2^T / l) computed directly, for many (T, k, l)', () => {
    const g = rsa2048Group(new Uint8Array([7]));
    for (const T of [1, 2, 3, 17, 64, 263, 264, 300, 1000]) {
      const y = g.squareTimes(g.input, T);
      const l = g.challengePrime(T, g.input, y);
      const direct = canonical(naivePow(g.input, (1n << BigInt(T)) / l));
      for (const params of [
        proofParams('rsa2048', T),
        { k: 3, l: 5, interval: 15 },
        { k: 1, l: 1, interval: 1 },
      ]) {
        const cps = checkpoints(g, T, params.interval);
        expect(prove(g, T, l, params, () => cps)).toBe(direct);
      }
      verifyWesolowski(g, T, g.input, y, direct);
    }
  });

  it('parameters respect the memory and checkpoint bounds up to T = 10^12', () => {
    for (const T of [1, 10, 1e4, 1e6, 1e8, 1e10, 1e12, 2 ** 48]) {
      for (const group of ['rsa2048', 'class1024'] as const) {
        const p = proofParams(group, T);
        expect(p.k).toBeLessThanOrEqual(16);
        expect(p.interval).toBe(p.k * p.l);
        expect(Math.ceil(T / p.interval)).toBeLessThanOrEqual(2 ** 22);
      }
    }
  });

  it('gives the rsa2048 parameters docs/vdf.md §6 lists (whole passes per worker at 10^8)', () => {
    const pick = (T: number) => {
      const { k, l } = proofParams('rsa2048', T);
      return [k, l];
    };
    expect(pick(1e6)).toEqual([9, 18]);
    expect(pick(1e8)).toEqual([15, 6]);
    expect(pick(1e10)).toEqual([16, 150]);
    expect(pick(1e12)).toEqual([16, 14_902]);
  });

  it('rejects the (−y, −π) twin and a wrong π (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.integer({ min: 1, max: 400 }),
        (seed, T) => {
          const g = rsa2048Group(seed);
          const y = g.squareTimes(g.input, T);
          const l = g.challengePrime(T, g.input, y);
          const p = proofParams('rsa2048', T);
          const pi = prove(g, T, l, p, () => checkpoints(g, T, p.interval));
          verifyWesolowski(g, T, g.input, y, pi);
          expect(() => verifyWesolowski(g, T, g.input, y, g.mul(pi, 2n))).toThrow(
            /does not verify/,
          );
          // In Z_N* the negated pair would verify; in the quotient it is the same element (canonical).
          expect(canonical(N - pi)).toBe(pi);
        },
      ),
      { numRuns: 15 },
    );
  });
});
