/**
 * Randomness enters the pure protocol code as an argument: a function returning n fresh bytes.
 * The shell passes node:crypto's randomBytes; tests pass a seeded generator.
 */
import { randomBytes } from 'node:crypto';
import { bigIntToBytes, bitLength, bytesToBigInt, gcd } from './bigint.ts';

export type RandomBytes = (n: number) => Uint8Array;

/** node:crypto's randomness as a RandomBytes: what the shells pass. */
export const systemRandom: RandomBytes = (n) => new Uint8Array(randomBytes(n));

/** Uniform in [0, bound) by rejection sampling. */
export function randomBelow(rng: RandomBytes, bound: bigint): bigint {
  if (bound <= 0n) throw new RangeError('randomBelow needs a positive bound');
  const bits = bitLength(bound - 1n);
  if (bits === 0) return 0n;
  const bytes = Math.ceil(bits / 8);
  const excess = BigInt(bytes * 8 - bits);
  for (;;) {
    const candidate = bytesToBigInt(rng(bytes)) >> excess;
    if (candidate < bound) return candidate;
  }
}

/** Uniform in [−bound, bound]. */
export function randomSigned(rng: RandomBytes, bound: bigint): bigint {
  return randomBelow(rng, 2n * bound + 1n) - bound;
}

/** Uniform in [1, n) with gcd(·, n) = 1. */
export function randomUnit(rng: RandomBytes, n: bigint): bigint {
  for (;;) {
    const r = randomBelow(rng, n);
    if (r !== 0n && gcd(r, n) === 1n) return r;
  }
}

/** A non-zero scalar below the group order. */
export function randomScalar(rng: RandomBytes, order: bigint): bigint {
  for (;;) {
    const r = randomBelow(rng, order);
    if (r !== 0n) return r;
  }
}

export function randomBytesOf(rng: RandomBytes, n: number): Uint8Array {
  const out = rng(n);
  if (!(out instanceof Uint8Array) || out.length !== n) {
    throw new RangeError('the random source returned the wrong number of bytes');
  }
  return out;
}

export { bigIntToBytes };
