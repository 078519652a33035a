/**
 * Prime generation at OpenSSL speed. This is a shell: it draws its own randomness from node:crypto,
 * so it sits outside the pure protocol code and its results enter that code as inputs.
 */
import { generatePrimeSync } from 'node:crypto';
import { type PaillierSecretKey, paillierSecretKey } from './paillier.ts';

/** A prime p ≡ 3 (mod 4) of exactly `bits` bits. */
export function generateBlumPrime(bits: number): bigint {
  return generatePrimeSync(bits, { bigint: true, add: 4n, rem: 3n }) as bigint;
}

/** A safe prime p = 2p' + 1 of exactly `bits` bits (for ring-Pedersen moduli). */
export function generateSafePrime(bits: number): bigint {
  return generatePrimeSync(bits, { bigint: true, safe: true }) as bigint;
}

export function generatePaillierKey(modulusBits: number): PaillierSecretKey {
  for (;;) {
    const p = generateBlumPrime(modulusBits / 2);
    const q = generateBlumPrime(modulusBits / 2);
    if (p === q) continue;
    const key = paillierSecretKey(p, q);
    if (key.n.toString(2).length === modulusBits) return key;
  }
}
