import { VdfError } from '../errors.ts';
import { hashPrime } from '../primes/index.ts';

export const DISCRIMINANT_BITS = 1024;
/** Seeds are challenge bytes; this bound only stops absurd inputs before hashing. */
export const MAX_SEED_BYTES = 1024;

/** chiavdf CreateDiscriminant(seed, 1024) = −HashPrime(seed, 1024, {0, 1, 2, 1023}). */
export function discriminantFromSeed(seed: Uint8Array): bigint {
  if (seed.length === 0 || seed.length > MAX_SEED_BYTES) {
    throw new VdfError('VDF_MALFORMED', `class1024 seed must be 1..${MAX_SEED_BYTES} bytes`);
  }
  return -hashPrime(seed, DISCRIMINANT_BITS, [0, 1, 2, DISCRIMINANT_BITS - 1]);
}
