import { type Form, reduce } from './form.ts';
import { egcd } from './xgcd.ts';

/**
 * Plain composition (Cohen, A Course in Computational Algebraic Number Theory, Alg. 5.4.7)
 * followed by full reduction: the baseline every faster path is measured and tested against.
 */
export function naiveCompose(f1: Form, f2: Form): Form {
  let x = f1;
  let y = f2;
  if (x.a > y.a) [x, y] = [y, x];
  const { a: a1, b: b1 } = x;
  const { a: a2, b: b2, c: c2 } = y;
  const s = (b1 + b2) >> 1n;
  const n = b2 - s;
  let y1: bigint;
  let d: bigint;
  if (a2 % a1 === 0n) {
    y1 = 0n;
    d = a1;
  } else {
    const [g, u] = egcd(a2, a1);
    d = g;
    y1 = u;
  }
  let x2: bigint;
  let y2: bigint;
  let d1: bigint;
  if (s % d === 0n) {
    y2 = -1n;
    x2 = 0n;
    d1 = d;
  } else {
    const [g, u, v] = egcd(s, d);
    d1 = g;
    x2 = u;
    y2 = -v;
  }
  const v1 = a1 / d1;
  const v2 = a2 / d1;
  let r = (y1 * y2 * n - x2 * c2) % v1;
  if (r < 0n) r += v1;
  const b3 = b2 + 2n * v2 * r;
  const a3 = v1 * v2;
  const c3 = (c2 * d1 + r * (b2 + v2 * r)) / v1;
  return reduce({ a: a3, b: b3, c: c3 });
}

export function naiveSquare(f: Form): Form {
  return naiveCompose(f, f);
}
