import { bigintToMinimalBytes } from '../bytes.ts';
import { modPow } from './modpow.ts';

/** Odd primes below 2000: trial division by these filters most HashPrime candidates cheaply. */
export const SMALL_PRIMES: readonly number[] = (() => {
  const limit = 2000;
  const composite = new Uint8Array(limit);
  const out: number[] = [];
  for (let i = 3; i < limit; i += 2) {
    if (composite[i]) continue;
    out.push(i);
    for (let j = i * i; j < limit; j += 2 * i) composite[j] = 1;
  }
  return out;
})();

const TWO32 = 2 ** 32;

/** weights[i][k] = 2^(32k) mod SMALL_PRIMES[i], grown on demand to the longest input seen. */
const weights: number[][] = SMALL_PRIMES.map(() => [1]);

function ensureWeights(chunks: number): void {
  if (weights[0]!.length >= chunks) return;
  SMALL_PRIMES.forEach((p, i) => {
    const w = weights[i]!;
    while (w.length < chunks) w.push((w[w.length - 1]! * TWO32) % p);
  });
}

/**
 * The smallest prime factor of a big-endian byte string below 2000 (0 if none; 2 is not tried).
 * n mod p = Σ chunk_k · (2^(32k) mod p): each term is below 2^43, so the sums stay exact in
 * doubles and each prime costs one division, far cheaper than BigInt remainders.
 */
export function smallFactorOfBytes(bytes: Uint8Array): number {
  const chunkCount = Math.ceil(bytes.length / 4);
  ensureWeights(chunkCount);
  const chunks = new Array<number>(chunkCount);
  for (let k = 0; k < chunkCount; k++) {
    const end = bytes.length - 4 * k;
    let v = 0;
    for (let j = Math.max(0, end - 4); j < end; j++) v = v * 256 + bytes[j]!;
    chunks[k] = v;
  }
  for (let i = 0; i < SMALL_PRIMES.length; i++) {
    const w = weights[i]!;
    let sum = 0;
    for (let k = 0; k < chunkCount; k++) sum += chunks[k]! * w[k]!;
    if (sum % SMALL_PRIMES[i]! === 0) return SMALL_PRIMES[i]!;
  }
  return 0;
}

/** The smallest odd prime factor of n below 2000, or 0 if there is none. */
export function smallFactor(n: bigint): number {
  return smallFactorOfBytes(bigintToMinimalBytes(n));
}

/** Strong probable-prime test to base 2 for odd n > 2. */
export function isStrongProbablePrimeBase2(n: bigint): boolean {
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  let x = modPow(2n, d, n);
  if (x === 1n || x === n - 1n) return true;
  for (let i = 1; i < s; i++) {
    x = (x * x) % n;
    if (x === n - 1n) return true;
    if (x === 1n) return false;
  }
  return false;
}

/** Jacobi symbol (a/n) for odd n > 0. */
export function jacobi(a: bigint, n: bigint): number {
  let x = a % n;
  if (x < 0n) x += n;
  let m = n;
  let result = 1;
  while (x !== 0n) {
    while ((x & 1n) === 0n) {
      x >>= 1n;
      const r = m & 7n;
      if (r === 3n || r === 5n) result = -result;
    }
    [x, m] = [m, x];
    if ((x & 3n) === 3n && (m & 3n) === 3n) result = -result;
    x %= m;
  }
  return m === 1n ? result : 0;
}

/** Integer square root (floor) by Newton's method. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt((n.toString(2).length >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function isPerfectSquare(n: bigint): boolean {
  const r = isqrt(n);
  return r * r === n;
}

/**
 * Strong Lucas probable-prime test with Selfridge's method A: D is the first of 5, −7, 9, −11, …
 * with (D/n) = −1, P = 1, Q = (1 − D)/4. n must be odd, > 2 and not a perfect square (else no
 * such D exists and the search would not end).
 */
export function isStrongLucasProbablePrime(n: bigint): boolean {
  let dAbs = 5n;
  let sign = 1n;
  for (;;) {
    const dd = sign * dAbs;
    const j = jacobi(dd, n);
    if (j === -1) break;
    if (j === 0 && dAbs !== n) return false; // a factor of n
    dAbs += 2n;
    sign = -sign;
    if (dAbs === 1001n && isPerfectSquare(n)) return false;
  }
  const D = sign * dAbs;
  const Q = (1n - D) / 4n; // P = 1
  const mod = (x: bigint): bigint => {
    const r = x % n;
    return r < 0n ? r + n : r;
  };
  let d = n + 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  // U_k, V_k, Q^k by a left-to-right binary chain over d.
  const bits = d.toString(2);
  let U = 1n;
  let V = 1n; // P
  let Qk = mod(Q);
  for (let i = 1; i < bits.length; i++) {
    // doubling: U_2k = U_k V_k, V_2k = V_k^2 − 2Q^k
    U = (U * V) % n;
    V = mod(V * V - 2n * Qk);
    Qk = (Qk * Qk) % n;
    if (bits.charCodeAt(i) === 49) {
      // increment: U_{k+1} = (P U + V)/2, V_{k+1} = (D U + P V)/2
      const u = U + V;
      const v = mod(D * U + V);
      U = mod((u & 1n) === 0n ? u >> 1n : (u + n) >> 1n);
      V = mod((v & 1n) === 0n ? v >> 1n : (v + n) >> 1n);
      Qk = mod(Qk * Q);
    }
  }
  if (U === 0n || V === 0n) return true;
  for (let r = 1; r < s; r++) {
    V = mod(V * V - 2n * Qk);
    if (V === 0n) return true;
    Qk = (Qk * Qk) % n;
  }
  return false;
}

/**
 * Baillie–PSW: trial division, strong Miller–Rabin base 2, perfect-square check, strong Lucas
 * (Selfridge A). No composite passing it is known; it decides HashPrime's output, so it must
 * agree with chiavdf's is_prime_bpsw on every candidate.
 */
export function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  if (n < 4n) return true;
  if ((n & 1n) === 0n) return false;
  if (n < 2000n * 2000n) {
    for (const p of SMALL_PRIMES) {
      const q = BigInt(p);
      if (q * q > n) return true;
      if (n % q === 0n) return false;
    }
    return true;
  }
  if (smallFactor(n) !== 0) return false;
  return passesBpswAfterTrialDivision(n);
}

/** The BPSW core for odd n above 2000² with no prime factor below 2000. */
export function passesBpswAfterTrialDivision(n: bigint): boolean {
  if (!isStrongProbablePrimeBase2(n)) return false;
  if (isPerfectSquare(n)) return false;
  return isStrongLucasProbablePrime(n);
}
