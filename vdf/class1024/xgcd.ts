import { gcdCofactor } from './lehmer.ts';

/**
 * Extended gcd: returns [g, x, y] with x·a + y·b = g = gcd(a, b) ≥ 0. Plain Euclid in BigInt;
 * the hot paths use the Lehmer variants in lehmer.ts.
 */
export function egcd(a: bigint, b: bigint): [bigint, bigint, bigint] {
  let r0 = a;
  let r1 = b;
  let x0 = 1n;
  let x1 = 0n;
  let y0 = 0n;
  let y1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [x0, x1] = [x1, x0 - q * x1];
    [y0, y1] = [y1, y0 - q * y1];
  }
  if (r0 < 0n) return [-r0, -x0, -y0];
  return [r0, x0, y0];
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** The inverse of a modulo m (m > 1), or undefined when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  const [g, x] = gcdCofactor(((a % m) + m) % m, m);
  if (g !== 1n) return undefined;
  return ((x % m) + m) % m;
}

/**
 * chiavdf's mpz_xgcd_partial(co2, co1, r2, r1, L) for r2, r1 ≥ 0: Euclid on (r2, r1) until
 * r1 = 0 or r1 ≤ L, carrying the cofactors of r1 starting from co2 = 0, co1 = −1. The BQFC
 * encoding depends on co1 bit for bit, so this follows the exact quotient sequence.
 */
export function partialXgcd(
  r2In: bigint,
  r1In: bigint,
  bound: bigint,
): { co2: bigint; co1: bigint; r2: bigint; r1: bigint } {
  let r2 = r2In;
  let r1 = r1In;
  let co2 = 0n;
  let co1 = -1n;
  while (r1 !== 0n && r1 > bound) {
    const q = r2 / r1;
    [r2, r1] = [r1, r2 - q * r1];
    [co2, co1] = [co1, co2 - q * co1];
  }
  if (r2 < 0n) {
    r2 = -r2;
    co2 = -co2;
    co1 = -co1;
  }
  return { co2, co1, r2, r1 };
}
