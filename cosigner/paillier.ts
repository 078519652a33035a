/**
 * Paillier encryption with g = N + 1 over a Blum modulus N = p·q (p ≡ q ≡ 3 mod 4). The secret key
 * stays with the server (bigint arithmetic is not constant-time, so it must never run on a device
 * an attacker can time). Decryption uses CRT over p² and q².
 */
import { bitLength, gcd, mod, modInverse } from './bigint.ts';
import { invalidElement } from './errors.ts';
import { modPow } from './modexp.ts';
import { type RandomBytes, randomUnit } from './random.ts';

export interface PaillierPublicKey {
  readonly n: bigint;
  readonly n2: bigint;
}

export interface PaillierSecretKey extends PaillierPublicKey {
  readonly p: bigint;
  readonly q: bigint;
  readonly phi: bigint;
  readonly p2: bigint;
  readonly q2: bigint;
  /** (−q)⁻¹ mod p and (−p)⁻¹ mod q: the CRT decryption constants for g = N + 1. */
  readonly hp: bigint;
  readonly hq: bigint;
  readonly pInvModQ: bigint;
}

export function paillierPublicKey(n: bigint): PaillierPublicKey {
  return { n, n2: n * n };
}

/** Builds a secret key from two distinct Blum primes; the caller chose them (pure). */
export function paillierSecretKey(p: bigint, q: bigint): PaillierSecretKey {
  if (p === q) throw new RangeError('Paillier primes must differ');
  if (p % 4n !== 3n || q % 4n !== 3n) throw new RangeError('Paillier primes must be 3 mod 4');
  const n = p * q;
  const phi = (p - 1n) * (q - 1n);
  if (gcd(n, phi) !== 1n) throw new RangeError('gcd(N, phi(N)) must be 1');
  return {
    n,
    n2: n * n,
    p,
    q,
    phi,
    p2: p * p,
    q2: q * q,
    hp: modInverse(mod(-q, p), p),
    hq: modInverse(mod(-p, q), q),
    pInvModQ: modInverse(p, q),
  };
}

/** (1 + N)^m · r^N mod N² for m taken mod N; r must be a unit mod N. */
export function encryptWith(pk: PaillierPublicKey, m: bigint, r: bigint): bigint {
  const gm = mod(1n + mod(m, pk.n) * pk.n, pk.n2);
  return mod(gm * modPow(r, pk.n, pk.n2), pk.n2);
}

export function encrypt(
  pk: PaillierPublicKey,
  m: bigint,
  rng: RandomBytes,
): { c: bigint; r: bigint } {
  const r = randomUnit(rng, pk.n);
  return { c: encryptWith(pk, m, r), r };
}

export function decrypt(sk: PaillierSecretKey, c: bigint): bigint {
  assertCiphertext(sk, c, 'ciphertext');
  const mp = mod(((modPow(c, sk.p - 1n, sk.p2) - 1n) / sk.p) * sk.hp, sk.p);
  const mq = mod(((modPow(c, sk.q - 1n, sk.q2) - 1n) / sk.q) * sk.hq, sk.q);
  return mp + sk.p * mod((mq - mp) * sk.pInvModQ, sk.q);
}

export function addCiphertexts(pk: PaillierPublicKey, a: bigint, b: bigint): bigint {
  return mod(a * b, pk.n2);
}

export function multiplyCiphertext(pk: PaillierPublicKey, c: bigint, k: bigint): bigint {
  return modPow(c, mod(k, pk.n), pk.n2);
}

/** A ciphertext must lie in [1, N²) and be a unit (gcd with N is 1); anything else is rejected. */
export function assertCiphertext(pk: PaillierPublicKey, c: bigint, field: string): void {
  if (c <= 0n || c >= pk.n2 || gcd(c, pk.n) !== 1n) {
    throw invalidElement(`${field} is not a valid Paillier ciphertext`);
  }
}

/** Bits of a public modulus (for size policy checks). */
export function modulusBits(pk: PaillierPublicKey): number {
  return bitLength(pk.n);
}
