/**
 * Modular exponentiation through OpenSSL. Node has no public modexp, but a Diffie–Hellman object
 * computes g^e mod p for any odd modulus p, several times faster than bigint square-and-multiply
 * at 2048 bits (see the cosigner bench). OpenSSL primality-checks a prime modulus on creation, which
 * is slow, so the modulus handed to it is always 3·m (composite, still odd) and the result is
 * reduced mod m afterwards: b^e mod 3m ≡ b^e (mod m).
 */
import { createDiffieHellman } from 'node:crypto';
import { bigIntToBytes, bytesToBigInt, mod, modInverse } from './bigint.ts';

/** Below this exponent size the object set-up costs more than bigint arithmetic. */
const SMALL_EXPONENT_BITS = 32n;
/** OpenSSL refuses DH moduli outside this range (OPENSSL_DH_MAX_MODULUS_BITS is 10000). */
const MIN_WIDE_MODULUS = 1n << 512n;
const MAX_WIDE_MODULUS = 1n << 9999n;

export function modPowBigInt(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  let result = 1n;
  let b = mod(base, modulus);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** base^exponent mod modulus for exponent ≥ 0 and modulus ≥ 1. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent < 0n) throw new RangeError('modPow needs a non-negative exponent');
  if (modulus < 1n) throw new RangeError('modPow needs a positive modulus');
  const b = mod(base, modulus);
  const wide = modulus * 3n;
  if (
    modulus % 2n === 0n ||
    b < 2n ||
    exponent < 1n << SMALL_EXPONENT_BITS ||
    wide < MIN_WIDE_MODULUS ||
    wide > MAX_WIDE_MODULUS
  ) {
    return modPowBigInt(b, exponent, modulus);
  }
  const dh = createDiffieHellman(bigIntToBytes(wide), bigIntToBytes(b));
  dh.setPrivateKey(Buffer.from(bigIntToBytes(exponent)));
  return mod(bytesToBigInt(dh.generateKeys()), modulus);
}

/** base^exponent mod modulus for any sign of exponent (negative needs gcd(base, modulus) = 1). */
export function modPowSigned(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent >= 0n) return modPow(base, exponent, modulus);
  return modPow(modInverse(base, modulus), -exponent, modulus);
}
