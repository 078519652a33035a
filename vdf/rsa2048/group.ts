/**
 * rsa2048: (Z/NZ)^× / {±1} for the RSA-2048 challenge modulus (DESIGN.md §4, docs/vdf.md). Elements are
 * canonical representatives min(v, N − v) in [1, (N − 1)/2]; −1 has order 2, so without the quotient
 * (−y, −π) would verify beside (y, π).
 */
import { shake256 } from '@noble/hashes/sha3.js';
import { accelerators } from '../accelerators.ts';
import { bigintToBytes, bytesEqual, bytesToBigint, concatBytes, u64be, utf8 } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { VdfGroup } from '../group.ts';
import { hashPrime } from '../primes/index.ts';
import { mulMod, naivePow, naiveSquareTimes } from './arith.ts';
import { ELEMENT_BYTES, HALF_N, N } from './modulus.ts';

export const RSA2048_INPUT_TAG = 'vigil/vdf/rsa2048/x/v1';
export const RSA2048_PRIME_TAG = 'vigil/vdf/rsa2048/l/v1';
export const CHALLENGE_PRIME_BITS = 264;
/** The hash-to-group output length: 8 bytes above N so the reduction's bias is 2^-64. */
const INPUT_HASH_BYTES = 264;

/** 'openssl' is OpenSSL's Montgomery code where Node installed it (accelerators.ts), else BigInt. */
export type Rsa2048Backend = 'openssl' | 'bigint';

export function canonical(v: bigint): bigint {
  const r = ((v % N) + N) % N;
  return r > HALF_N ? N - r : r;
}

export function encodeRsa(v: bigint): Uint8Array {
  return bigintToBytes(v, ELEMENT_BYTES);
}

/** Strict: exactly 256 bytes holding a canonical representative 1 ≤ v ≤ (N − 1)/2. */
export function decodeRsa(bytes: Uint8Array): bigint {
  if (bytes.length !== ELEMENT_BYTES)
    throw new VdfError(
      'VDF_MALFORMED',
      `rsa2048 element must be ${ELEMENT_BYTES} bytes, got ${bytes.length}`,
    );
  const v = bytesToBigint(bytes);
  if (v === 0n) throw new VdfError('VDF_MALFORMED', 'rsa2048 element is zero');
  if (v > HALF_N)
    throw new VdfError(
      'VDF_MALFORMED',
      'rsa2048 element is not canonical (v > (N-1)/2; use N - v)',
    );
  return v;
}

export function deriveRsaInput(seed: Uint8Array): bigint {
  const wide = shake256(concatBytes(utf8(RSA2048_INPUT_TAG), seed), { dkLen: INPUT_HASH_BYTES });
  const x = canonical(bytesToBigint(wide));
  if (x === 0n) throw new VdfError('VDF_MALFORMED', 'seed hashes to zero mod N');
  return x;
}

export function rsaChallengePrime(iterations: number, x: bigint, y: bigint): bigint {
  const seed = concatBytes(
    utf8(RSA2048_PRIME_TAG),
    encodeRsa(N),
    u64be(iterations),
    encodeRsa(x),
    encodeRsa(y),
  );
  return hashPrime(seed, CHALLENGE_PRIME_BITS, [CHALLENGE_PRIME_BITS - 1]);
}

export function rsa2048Group(
  seed: Uint8Array,
  backend: Rsa2048Backend = 'openssl',
): VdfGroup<bigint> {
  const fast = backend === 'openssl' ? accelerators().rsa2048 : undefined;
  const squareTimes = fast?.squareTimes ?? naiveSquareTimes;
  const pow = (a: bigint, e: bigint): bigint => {
    if (e === 0n) return 1n;
    if (fast !== undefined && e < N) return canonical(fast.pow(a, e));
    return canonical(naivePow(a, e));
  };
  return {
    name: 'rsa2048',
    elementBytes: ELEMENT_BYTES,
    input: deriveRsaInput(seed),
    encode: encodeRsa,
    decode: decodeRsa,
    equal: (a, b) => a === b,
    identity: () => 1n,
    mul: (a, b) => canonical(mulMod(a, b)),
    square: (a) => canonical(mulMod(a, a)),
    squareTimes: (a, k) => canonical(squareTimes(a, k)),
    pow,
    challengePrime: rsaChallengePrime,
  };
}

export function sameEncoding(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b);
}
