/**
 * Modular exponentiation through OpenSSL. Node has no public modexp, but a Diffie–Hellman object
 * computes g^e mod p for any odd modulus p, several times faster than bigint square-and-multiply
 * at 2048 bits (see the cosigner bench). OpenSSL primality-checks a prime modulus on creation, which
 * is slow, so the modulus handed to it is always 3·m (composite, still odd) and the result is
 * reduced mod m afterwards: b^e mod 3m ≡ b^e (mod m).
 */
import {
  constants,
  createDiffieHellman,
  createPublicKey,
  type KeyObject,
  publicEncrypt,
} from 'node:crypto';
import { bigIntToBytes, bitLength, bytesToBigInt, mod, modInverse } from './bigint.ts';

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

/** OpenSSL's raw RSA public operation accepts e < m, and above 3072-bit moduli only e ≤ 64 bits. */
const RSA_SMALL_MODULUS_BITS = 3072;
const RSA_MAX_MODULUS_BITS = 16384;
const RSA_MAX_LARGE_MODULUS_EXPONENT_BITS = 64;

const b64 = (x: bigint) => Buffer.from(bigIntToBytes(x)).toString('base64url');
let cachedKey: { m: bigint; e: bigint; key: KeyObject } | undefined;

function rsaKey(m: bigint, e: bigint): KeyObject {
  if (cachedKey?.m === m && cachedKey.e === e) return cachedKey.key;
  const key = createPublicKey({ key: { kty: 'RSA', n: b64(m), e: b64(e) }, format: 'jwk' });
  cachedKey = { m, e, key };
  return key;
}

/**
 * base^exponent mod modulus for a PUBLIC exponent (a verifier's work): OpenSSL's raw RSA public
 * operation computes exactly this, about twice as fast as the Diffie–Hellman route, and a run of
 * calls with the same modulus and exponent (Πmod's z^N) reuses one key object. That operation is
 * not constant-time in the exponent, so secrets (decryption, provers) keep using modPow.
 * Anything OpenSSL would refuse falls back to modPow.
 */
export function modPowPublic(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent < 0n) throw new RangeError('modPowPublic needs a non-negative exponent');
  if (modulus < 1n) throw new RangeError('modPowPublic needs a positive modulus');
  const b = mod(base, modulus);
  const bits = bitLength(modulus);
  if (
    modulus % 2n === 0n ||
    b < 2n ||
    exponent < 1n << SMALL_EXPONENT_BITS ||
    exponent >= modulus ||
    bits <= 512 ||
    bits > RSA_MAX_MODULUS_BITS ||
    (bits > RSA_SMALL_MODULUS_BITS && bitLength(exponent) > RSA_MAX_LARGE_MODULUS_EXPONENT_BITS)
  ) {
    return modPow(b, exponent, modulus);
  }
  try {
    const out = publicEncrypt(
      { key: rsaKey(modulus, exponent), padding: constants.RSA_NO_PADDING },
      Buffer.from(bigIntToBytes(b, Math.ceil(bits / 8))),
    );
    return bytesToBigInt(out);
  } catch {
    return modPow(b, exponent, modulus);
  }
}

/** modPowPublic for exponents of any sign (negative needs gcd(base, modulus) = 1). */
export function modPowPublicSigned(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent >= 0n) return modPowPublic(base, exponent, modulus);
  return modPowPublic(modInverse(base, modulus), -exponent, modulus);
}
