/** What cosigner tests share: a client's ring-Pedersen setup on small (512-bit) safe primes. */
import { randomBytes } from 'node:crypto';
import {
  type ClientSetup,
  generateSafePrime,
  makeClientSetup,
  ringPedersenFromPrimes,
} from '../../cosigner/index.ts';

export const rng = (n: number) => new Uint8Array(randomBytes(n));

/** Accepted by a cosigner opened with `securityPolicy` (1024-bit ring-Pedersen moduli). */
export const securityPolicy = { paillierBits: 2048, ringPedersenBits: 1024 };

/** A device's setup with Πprm, on a 1024-bit modulus so tests make it in a second or two. */
export function smallClientSetup(): ClientSetup {
  const p = generateSafePrime(512);
  let q = generateSafePrime(512);
  while (q === p) q = generateSafePrime(512);
  return makeClientSetup(ringPedersenFromPrimes(p, q, rng), rng);
}
