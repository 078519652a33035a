/**
 * Shared test material. Paillier keys are real 2048-bit Blum moduli (OpenSSL makes the primes in
 * tens of milliseconds); ring-Pedersen moduli in unit tests are 1024-bit (two 512-bit safe primes)
 * because 1024-bit safe primes take seconds — no property under test depends on N̂'s size, only the
 * verifier's minimum-size policy does, and that policy is exercised separately.
 */
import { randomBytes } from 'node:crypto';
import type { PaillierSecretKey } from './paillier.ts';
import { generatePaillierKey, generateSafePrime } from './primes.ts';
import type { RandomBytes } from './random.ts';
import { type RingPedersenSecret, ringPedersenFromPrimes } from './zk/ring-pedersen.ts';

export const rng: RandomBytes = (n) => new Uint8Array(randomBytes(n));

export const TEST_RING_PEDERSEN_BITS = 1024;

let paillier: PaillierSecretKey | undefined;
let ring: RingPedersenSecret | undefined;

export function testPaillierKey(): PaillierSecretKey {
  paillier ??= generatePaillierKey(2048);
  return paillier;
}

export function freshPaillierKey(): PaillierSecretKey {
  return generatePaillierKey(2048);
}

export function testRingPedersen(): RingPedersenSecret {
  if (!ring) {
    const p = generateSafePrime(TEST_RING_PEDERSEN_BITS / 2);
    let q = generateSafePrime(TEST_RING_PEDERSEN_BITS / 2);
    while (q === p) q = generateSafePrime(TEST_RING_PEDERSEN_BITS / 2);
    ring = ringPedersenFromPrimes(p, q, rng);
  }
  return ring;
}

export const sessionId = (label: string): Uint8Array =>
  new TextEncoder().encode(label.padEnd(32, '.'));
