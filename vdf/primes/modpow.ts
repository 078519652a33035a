import { createDiffieHellman } from 'node:crypto';

/** OpenSSL refuses Diffie–Hellman moduli below 512 bits; smaller ones are padded by a cofactor. */
const OPENSSL_MIN_BITS = 512;
/** Below this size the fixed cost of a Diffie–Hellman object outweighs its faster arithmetic. */
const NATIVE_MIN_BITS = 96;

export function bigintToBytes(x: bigint): Buffer {
  let hex = x.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

/** Left-to-right square-and-multiply in BigInt; the reference and the small-modulus path. */
export function modPowBigint(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  let b = base % modulus;
  if (b < 0n) b += modulus;
  if (exponent === 0n) return 1n;
  const bits = exponent.toString(2);
  let r = b;
  for (let i = 1; i < bits.length; i++) {
    r = (r * r) % modulus;
    if (bits.charCodeAt(i) === 49) r = (r * b) % modulus;
  }
  return r;
}

/**
 * base^exponent mod an odd modulus through OpenSSL's Montgomery exponentiation (node:crypto
 * Diffie–Hellman computes g^priv mod p for any odd p). Measured at 264 bits on a 2-core VM:
 * 68 µs against 104 µs for modPowBigint, so the Miller–Rabin rounds of HashPrime use this.
 */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent < 0n || modulus <= 0n) throw new RangeError('modPow: negative exponent or modulus');
  let b = base % modulus;
  if (b < 0n) b += modulus;
  const bits = modulus.toString(2).length;
  if ((modulus & 1n) === 0n || bits < NATIVE_MIN_BITS || b <= 1n || exponent <= 1n) {
    return modPowBigint(b, exponent, modulus);
  }
  // x mod m is (x mod m·K) mod m, so a small modulus rides on a padded odd one.
  const padded =
    bits < OPENSSL_MIN_BITS
      ? modulus * ((1n << BigInt(OPENSSL_MIN_BITS + 1 - bits)) + 1n)
      : modulus;
  try {
    const dh = createDiffieHellman(bigintToBytes(padded), bigintToBytes(b));
    dh.setPrivateKey(bigintToBytes(exponent));
    const out = dh.generateKeys();
    let r = 0n;
    if (out.length > 0) r = BigInt(`0x${out.toString('hex')}`);
    return padded === modulus ? r : r % modulus;
  } catch {
    // OpenSSL may refuse exotic parameters; the BigInt path is always correct.
    return modPowBigint(b, exponent, modulus);
  }
}
