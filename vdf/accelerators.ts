import type { FormOps } from './class1024/pow.ts';

/**
 * The arithmetic the VDF spends its time in, behind one seam (as vault/protocol/primitives.ts is
 * for the curve). The groups, the verifier and the encodings are the same code everywhere; only
 * these differ:
 * - none installed: BigInt, the TypeScript HashPrime and class-group operations
 *   (primes/hash-prime.ts, class1024/fast.ts), which run in browsers and React Native
 *   (`vdf/portable.ts`, the client SDK);
 * - Node's (node-accelerators.ts): OpenSSL's Montgomery exponentiation and the native addon,
 *   installed by the Node face (`vdf/index.ts`) and the solver's processes and workers.
 * Every accelerator gives the same answers as the BigInt or TypeScript code it replaces; the
 * tests hold them to that (vdf/portable.test.ts, primes.test.ts, rsa2048.test.ts, native.test.ts);
 * every test file runs with Node's installed (test/support/node-accelerators.ts) unless it opts out.
 */
export interface Accelerators {
  /** b^e mod m for odd m ≥ 2^95, 1 < b < m and odd e ≥ 3; undefined when it declines. */
  oddModPow?(b: bigint, e: bigint, m: bigint): bigint | undefined;
  /** Powers mod the RSA-2048 N (not yet canonical): a^e for 1 ≤ e < N, and a^(2^k). */
  rsa2048?: { pow(a: bigint, e: bigint): bigint; squareTimes(a: bigint, k: number): bigint };
  /**
   * HashPrime (primes/hash-prime.ts) on arguments it has checked: the same prime, null where a
   * short seed's counter wraps without one (hashPrime throws), undefined when it declines.
   */
  hashPrime?(seed: Uint8Array, bits: number, setBits: readonly number[]): bigint | null | undefined;
  /** The class-group operations for discriminant D. */
  class1024Ops?(D: bigint): FormOps;
}

let active: Accelerators = {};

/** The accelerators in use in this process (none unless a Node face installed its own). */
export function accelerators(): Accelerators {
  return active;
}

export function useAccelerators(a: Accelerators): void {
  active = a;
}
