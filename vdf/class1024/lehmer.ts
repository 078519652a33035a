/**
 * Lehmer-accelerated Euclid: runs the quotient sequence on the top ~50 bits of the operands in
 * doubles (exact below 2^53) and applies the resulting 2×2 cofactor matrix to the BigInts once
 * per batch, instead of one BigInt division per quotient.
 */

const TOP_BITS = 50;

/** Bit length of x > 0 (may be one too high near powers of two; callers only need a shift). */
export function approxBits(x: bigint): number {
  const n = Number(x);
  return n === Number.POSITIVE_INFINITY ? x.toString(2).length : Math.floor(Math.log2(n)) + 1;
}

/** Result of one batch: matrix [[m00, m01], [m10, m11]] and the number of quotient steps. */
interface Batch {
  m00: number;
  m01: number;
  m10: number;
  m11: number;
  steps: number;
}

const batch: Batch = { m00: 1, m01: 0, m10: 0, m11: 1, steps: 0 };

/**
 * Knuth's Algorithm L on x̂ ≥ ŷ ≥ 0 (< 2^50): steps while both bracketing quotients agree, so
 * every quotient taken is the true one. With `stopAt` ≥ 0, no step is taken once ŷ ≤ stopAt.
 */
function lehmerBatch(xIn: number, yIn: number, stopAt: number): Batch {
  let x = xIn;
  let y = yIn;
  let a = 1;
  let b = 0;
  let c = 0;
  let d = 1;
  let steps = 0;
  for (;;) {
    if (y <= stopAt) break;
    const den1 = y + c;
    const den2 = y + d;
    if (den1 <= 0 || den2 <= 0) break;
    let q = Math.floor((x + a) / den1);
    // Floating division may round across an integer: correct q exactly.
    const r1 = x + a - q * den1;
    if (r1 < 0) q--;
    else if (r1 >= den1) q++;
    let q2 = Math.floor((x + b) / den2);
    const r2 = x + b - q2 * den2;
    if (r2 < 0) q2--;
    else if (r2 >= den2) q2++;
    if (q !== q2) break;
    const na = c;
    const nc = a - q * c;
    const nb = d;
    const nd = b - q * d;
    a = na;
    c = nc;
    b = nb;
    d = nd;
    const ny = x - q * y;
    x = y;
    y = ny;
    steps++;
  }
  batch.m00 = a;
  batch.m01 = b;
  batch.m10 = c;
  batch.m11 = d;
  batch.steps = steps;
  return batch;
}

const MAX_EXACT = 2n ** 52n;

const tail = { m00: 1, m01: 0, m10: 0, m11: 1, r0: 0, steps: 0 };

/**
 * Euclid to the end on r0 ≥ r1 ≥ 0 below 2^52, all in doubles: remainders, quotients and the
 * cofactor matrix (entries ≤ r0) stay exact integers.
 */
function numberTail(x0: number, y0: number): typeof tail {
  let x = x0;
  let y = y0;
  let a = 1;
  let b = 0;
  let c = 0;
  let d = 1;
  let steps = 0;
  while (y !== 0) {
    const q = Math.floor(x / y);
    let r = x - q * y;
    let qq = q;
    // x/y in floating point may round up across an integer.
    if (r < 0) {
      qq--;
      r += y;
    }
    const nc = a - qq * c;
    const nd = b - qq * d;
    a = c;
    b = d;
    c = nc;
    d = nd;
    x = y;
    y = r;
    steps++;
  }
  tail.m00 = a;
  tail.m01 = b;
  tail.m10 = c;
  tail.m11 = d;
  tail.r0 = x;
  tail.steps = steps;
  return tail;
}

/**
 * Euclid on (r0, r1), r0 ≥ r1 ≥ 0, carrying cofactors (s0, s1) through the same recurrence
 * (s0, s1) ← (s1, s0 − q·s1), until r1 = 0 or r1 ≤ bound (bound < 0: to the end). The stop may
 * land a few quotients past the first remainder ≤ bound, never before it.
 * Returns [r0, r1, s0, s1, steps].
 */
export function euclidWithCofactors(
  r0In: bigint,
  r1In: bigint,
  s0In: bigint,
  s1In: bigint,
  bound: bigint,
): [bigint, bigint, bigint, bigint, number] {
  let r0 = r0In;
  let r1 = r1In;
  let s0 = s0In;
  let s1 = s1In;
  let steps = 0;
  while (r1 !== 0n && r1 > bound) {
    const bits = approxBits(r0);
    let m: Batch | undefined;
    let shift = 0n;
    if (bits > TOP_BITS + 2) {
      shift = BigInt(bits - TOP_BITS);
      const stopAt = bound < 0n ? -1 : Number(bound >> shift);
      m = lehmerBatch(Number(r0 >> shift), Number(r1 >> shift), stopAt);
    }
    if (m === undefined && bound < 0n && r0 <= MAX_EXACT) {
      // The tail of a full gcd fits in doubles: finish it there and apply one matrix.
      const t = numberTail(Number(r0), Number(r1));
      const ns0 = BigInt(t.m00) * s0 + BigInt(t.m01) * s1;
      s1 = BigInt(t.m10) * s0 + BigInt(t.m11) * s1;
      s0 = ns0;
      r0 = BigInt(t.r0);
      r1 = 0n;
      steps += t.steps;
      break;
    }
    if (m === undefined || m.steps === 0) {
      // Small operands, or a quotient too large for the batch: one plain step.
      const q = r0 / r1;
      const r = r0 - q * r1;
      r0 = r1;
      r1 = r;
      const s = s0 - q * s1;
      s0 = s1;
      s1 = s;
      steps++;
      continue;
    }
    const m00 = BigInt(m.m00);
    const m01 = BigInt(m.m01);
    const m10 = BigInt(m.m10);
    const m11 = BigInt(m.m11);
    const nr0 = m00 * r0 + m01 * r1;
    r1 = m10 * r0 + m11 * r1;
    r0 = nr0;
    const ns0 = m00 * s0 + m01 * s1;
    s1 = m10 * s0 + m11 * s1;
    s0 = ns0;
    steps += m.steps;
  }
  return [r0, r1, s0, s1, steps];
}

/** [g, u] with u·x ≡ g (mod y), g = gcd(x, y), for x ≥ 0, y > 0 (the cofactor of x only). */
export function gcdCofactor(x: bigint, y: bigint): [bigint, bigint] {
  // Sequence on (y, x mod y): remainders r_i ≡ s_i·x (mod y) with s = (0, 1).
  const [g, , u] = euclidWithCofactors(y, x % y, 0n, 1n, -1n);
  return [g, u];
}
