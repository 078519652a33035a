import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modInverse } from './bigint.ts';
import { modPow, modPowBigInt, modPowSigned } from './modexp.ts';

describe('modPow through OpenSSL', () => {
  it('agrees with bigint square-and-multiply on random odd and even moduli', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 700n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 1200n) - 1n }),
        fc.bigInt({ min: 1n, max: (1n << 1100n) - 1n }),
        (b, e, m) => {
          expect(modPow(b, e, m)).toBe(modPowBigInt(b, e, m));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles edge bases and exponents and zero-padded outputs', () => {
    const m = (1n << 607n) - 1n; // a Mersenne prime: exercises the 3·m trick
    expect(modPow(0n, 5n, m)).toBe(0n);
    expect(modPow(1n, 1n << 100n, m)).toBe(1n);
    expect(modPow(m - 1n, (1n << 80n) + 1n, m)).toBe(m - 1n);
    expect(modPow(2n, 0n, m)).toBe(1n);
    expect(modPow(2n, 1n << 40n, 1n)).toBe(0n);
    expect(modPowSigned(3n, -(1n << 40n), m)).toBe(modPow(modInverse(3n, m), 1n << 40n, m));
  });
});
