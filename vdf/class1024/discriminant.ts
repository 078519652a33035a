import { toHex } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { hashPrime } from '../primes/index.ts';

export const DISCRIMINANT_BITS = 1024;
/** Seeds are challenge bytes; this bound only stops absurd inputs before hashing. */
export const MAX_SEED_BYTES = 1024;

const CACHE_SIZE = 32;
const cache = new Map<string, bigint>();

/**
 * chiavdf CreateDiscriminant(seed, 1024) = −HashPrime(seed, 1024, {0, 1, 2, 1023}). Deriving one
 * costs tens of milliseconds (about fifty 1024-bit Miller–Rabin rounds), so the last few are
 * cached: a verifier checks several proofs against the same challenge.
 */
export function discriminantFromSeed(seed: Uint8Array): bigint {
  if (seed.length === 0 || seed.length > MAX_SEED_BYTES) {
    throw new VdfError('VDF_MALFORMED', `class1024 seed must be 1..${MAX_SEED_BYTES} bytes`);
  }
  const key = toHex(seed);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let D: bigint;
  try {
    D = -hashPrime(seed, DISCRIMINANT_BITS, [0, 1, 2, DISCRIMINANT_BITS - 1]);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // Only very short seeds (a handful of 1-byte ones) have no prime in their counter's cycle.
    throw new VdfError('VDF_MALFORMED', 'class1024 seed yields no discriminant; use a longer seed');
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, D);
  return D;
}
