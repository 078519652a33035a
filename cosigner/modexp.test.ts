import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modInverse } from './bigint.ts';
import { modPow, modPowBigInt, modPowPublic, modPowPublicSigned, modPowSigned } from './modexp.ts';

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

  it('modPowPublic (OpenSSL raw RSA) agrees with bigint arithmetic, with fallbacks', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 2100n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 2100n) - 1n }),
        fc.bigInt({ min: 1n << 520n, max: (1n << 2048n) - 1n }),
        (b, e, m) => {
          expect(modPowPublic(b, e, m)).toBe(modPow(b, e, m));
        },
      ),
      { numRuns: 60 },
    );
    const m = (1n << 2047n) + 9n * (1n << 1000n) + 1n; // odd, 2048 bits
    const z = (1n << 2000n) + 12345n;
    // Same modulus and exponent twice (the cached key), and e = m - 1 (largest accepted).
    expect(modPowPublic(z, m - 1n, m)).toBe(modPow(z, m - 1n, m));
    expect(modPowPublic(z + 1n, m - 1n, m)).toBe(modPow(z + 1n, m - 1n, m));
    // e ≥ m, even m, and a 4096-bit modulus with a large exponent take the fallback.
    expect(modPowPublic(z, m + 2n, m)).toBe(modPow(z, m + 2n, m));
    expect(modPowPublic(z, 1n << 100n, m + 1n)).toBe(modPow(z, 1n << 100n, m + 1n));
    const m2 = m * m;
    expect(modPowPublic(z, m, m2)).toBe(modPow(z, m, m2));
    expect(modPowPublic(z, (1n << 63n) + 5n, m2)).toBe(modPow(z, (1n << 63n) + 5n, m2));
    expect(modPowPublicSigned(2n, -(1n << 40n), m)).toBe(modPowSigned(2n, -(1n << 40n), m));
  });
});
