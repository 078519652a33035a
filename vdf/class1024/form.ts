import { VdfError } from '../errors.ts';

/** A binary quadratic form ax² + bxy + cy² of discriminant b² − 4ac = D < 0 (a > 0). */
export interface Form {
  readonly a: bigint;
  readonly b: bigint;
  readonly c: bigint;
}

/** floor(n / d) for d > 0. */
export function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n < 0n && q * d !== n ? q - 1n : q;
}

/** The form (a, b, (b² − D)/4a); throws VDF_MALFORMED unless a > 0 and 4a divides b² − D. */
export function formFromAB(a: bigint, b: bigint, D: bigint): Form {
  if (a <= 0n) throw new VdfError('VDF_MALFORMED', 'form: a must be positive');
  const num = b * b - D;
  const den = 4n * a;
  if (num % den !== 0n) throw new VdfError('VDF_MALFORMED', 'form: 4a does not divide b² − D');
  return { a, b, c: num / den };
}

export function discriminantOf(f: Form): bigint {
  return f.b * f.b - 4n * f.a * f.c;
}

/** Reduced: |b| ≤ a ≤ c, and b ≥ 0 when |b| = a or a = c. */
export function isReduced(f: Form): boolean {
  const { a, b, c } = f;
  const absB = b < 0n ? -b : b;
  if (absB > a || a > c) return false;
  if ((absB === a || a === c) && b < 0n) return false;
  return true;
}

/**
 * The unique reduced form equivalent to f (positive definite). Each step is the swap
 * (a, b, c) → (c, −b, a) followed by normalisation −a < b ≤ a.
 */
export function reduce(f: Form): Form {
  let { a, b, c } = f;
  for (;;) {
    if (b > a || b <= -a) {
      // b ← b + 2ra with r = ⌊(a − b)/2a⌋ brings b into (−a, a].
      const twoA = a << 1n;
      const r = floorDiv(a - b, twoA);
      c += r * (b + a * r);
      b += twoA * r;
    }
    if (a > c) {
      const t = a;
      a = c;
      c = t;
      b = -b;
      continue;
    }
    if (a === c && b < 0n) b = -b;
    return { a, b, c };
  }
}

export function formsEqual(x: Form, y: Form): boolean {
  return x.a === y.a && x.b === y.b && x.c === y.c;
}

export function identityForm(D: bigint): Form {
  return formFromAB(1n, 1n, D);
}

/** Chia's default input element (form::generator): (2, 1). Requires D ≡ 1 (mod 8). */
export function generatorForm(D: bigint): Form {
  return formFromAB(2n, 1n, D);
}
