import { isqrt } from '../primes/index.ts';
import { type Form, reduce } from './form.ts';
import { approxBits, euclidWithCofactors, gcdCofactor } from './lehmer.ts';
import { naiveCompose, naiveSquare } from './naive.ts';
import type { FormOps } from './pow.ts';
import { egcd } from './xgcd.ts';

/**
 * NUDUPL (Shanks; Jacobson–van der Poorten; Cohen Alg. 5.4.8): squaring with the partial
 * reduction done on half-size numbers by a Lehmer partial Euclid stopped at L = ⌊|D|^(1/4)⌋,
 * then a short full reduction. Exact for any stopping point, so Lehmer's overshoot is harmless.
 */
export function nudupl(f: Form, L: bigint): Form {
  const { a, b, c } = f;
  const absB = b < 0n ? -b : b;
  // u·b ≡ d1 (mod a), d1 = gcd(a, b).
  const [d1, uAbs] = gcdCofactor(absB % a, a);
  const u = b < 0n ? -uAbs : uAbs;
  const A = a / d1;
  const B = b / d1;
  let C = (-c * u) % A;
  if (C < 0n) C += A;
  let [d, v3, v, v2, z] = euclidWithCofactors(A, C, 0n, 1n, L);
  if (z % 2 === 1) {
    v2 = -v2;
    v3 = -v3;
  }
  let a2: bigint;
  let b2: bigint;
  let c2: bigint;
  if (z === 0) {
    const g = (B * v3 + c) / d;
    a2 = d * d;
    c2 = v3 * v3;
    b2 = b + 2n * d * v3;
    c2 += g * d1;
  } else {
    const e = (c * v + B * d) / A;
    const g = (e * v2 - B) / v;
    b2 = e * v2 + v * g;
    if (d1 > 1n) {
      b2 *= d1;
      v *= d1;
      v2 *= d1;
    }
    a2 = d * d;
    c2 = v3 * v3;
    b2 += 2n * d * v3;
    a2 += e * v;
    c2 += g * v2;
  }
  if (a2 < 0n) {
    // (a, b, c) and (−a, b, −c)… cannot be positive definite with a < 0; guard the invariant.
    throw new Error('nudupl: internal error, negative a');
  }
  return reduce({ a: a2, b: b2, c: c2 });
}

/**
 * NUCOMP (Shanks; Cohen Alg. 5.4.9): composition with the same half-size partial reduction.
 * The common case gcd(a1, a2) = 1 needs only the cofactor of a2 modulo a1 (Lehmer); the rare
 * other case takes plain extended gcds.
 */
export function nucomp(f1: Form, f2: Form, L: bigint): Form {
  let x = f1;
  let y = f2;
  if (x.a < y.a) [x, y] = [y, x];
  let a1 = x.a;
  let a2 = y.a;
  const c1 = x.c;
  const { b: b2, c: c2 } = y;
  let s = (x.b + b2) >> 1n;
  const n = b2 - s;
  let A: bigint;
  let d: bigint;
  let d1 = 1n;
  const [g0, uMod] = gcdCofactor(a2 % a1, a1);
  if (g0 === 1n) {
    d = 1n;
    A = -uMod * n;
  } else {
    // Any Bézout pair u·a2 + v·a1 = d works; take u from the Lehmer run.
    const u = uMod;
    const v = (g0 - u * a2) / a1;
    d = g0;
    const [g1, u1] = egcd(s, d);
    d1 = g1;
    if (d1 > 1n) {
      a1 /= d1;
      a2 /= d1;
      s /= d1;
      d /= d1;
    }
    const modD = (t: bigint): bigint => ((t % d) + d) % d;
    const l = modD(-u1 * (u * modD(c1) + v * modD(c2)));
    A = -u * (n / d) + l * (a1 / d);
  }
  A %= a1;
  if (A < 0n) A += a1;
  // Stop at sqrt(a1/a2)·L, NUDUPL's L for operands of one size: past a small a2 (the generator
  // (2, 1) and its low powers) L left the product ~90 reduction steps from reduced. Any stopping
  // point gives an equivalent form, so a power of two near the bound does.
  const bound = L << BigInt((approxBits(a1) - approxBits(a2)) >> 1);
  let [dd, v3, v, v2, z] = euclidWithCofactors(a1, A, 0n, 1n, bound);
  if (z % 2 === 1) {
    v2 = -v2;
    v3 = -v3;
  }
  if (z === 0) {
    const q1 = a2 * v3;
    const q2 = q1 + n;
    const f = q2 / dd;
    const g = (v3 * s + c2) / dd;
    return reduce({ a: dd * a2, b: 2n * q1 + b2, c: v3 * f + g * d1 });
  }
  const bb = (a2 * dd + n * v) / a1;
  const q1 = bb * v3;
  const q2 = q1 + n;
  const f = q2 / dd;
  const e = (s * dd + c2 * v) / a1;
  const q3 = e * v2;
  const q4 = q3 - s;
  const g = q4 / v;
  if (d1 > 1n) {
    v2 *= d1;
    v *= d1;
  }
  return reduce({ a: dd * bb + e * v, b: q1 + q2 + d1 * (q3 + q4), c: v3 * f + g * v2 });
}

/** L = ⌊|D|^(1/4)⌋, NUDUPL's partial-reduction bound (chiavdf: root(−D, 4)). */
export function partialBound(D: bigint): bigint {
  return isqrt(isqrt(-D));
}

export const naiveOps: FormOps = { square: naiveSquare, mul: naiveCompose };

const cache = new Map<bigint, FormOps>();

/** The fast operations for discriminant D (cached for the last few D). */
export function opsFor(D: bigint): FormOps {
  let ops = cache.get(D);
  if (ops === undefined) {
    const L = partialBound(D);
    ops = { square: (f) => nudupl(f, L), mul: (f, g) => nucomp(f, g, L) };
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(D, ops);
  }
  return ops;
}
