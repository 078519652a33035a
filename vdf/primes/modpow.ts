import { constants, createPublicKey, publicEncrypt } from 'node:crypto';

/** Below this size the fixed cost of an OpenSSL key outweighs its faster arithmetic. */
const NATIVE_MIN_BITS = 96;

export function bigintToBytes(x: bigint, length = 0): Buffer {
  let hex = x.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const raw = Buffer.from(hex, 'hex');
  if (raw.length >= length) return raw;
  const out = Buffer.alloc(length);
  raw.copy(out, length - raw.length);
  return out;
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
 * b^e mod m for odd e through OpenSSL's raw RSA public operation (m^e mod n with no padding),
 * which runs Montgomery exponentiation for any odd modulus. Undefined if OpenSSL refuses.
 */
function rsaRawPow(b: bigint, oddExponent: bigint, modulus: bigint): bigint | undefined {
  const n = bigintToBytes(modulus);
  try {
    const key = createPublicKey({
      key: {
        kty: 'RSA',
        n: n.toString('base64url'),
        e: bigintToBytes(oddExponent).toString('base64url'),
      },
      format: 'jwk',
    });
    const out = publicEncrypt(
      { key, padding: constants.RSA_NO_PADDING },
      bigintToBytes(b, n.length),
    );
    return BigInt(`0x${out.toString('hex')}`);
  } catch {
    return undefined;
  }
}

/**
 * base^exponent mod modulus. For odd moduli of ≥ 96 bits the odd part of the exponent goes
 * through OpenSSL (measured at 264 bits on a 2-core VM: 40 µs, against 68 µs for node:crypto
 * Diffie–Hellman padded to OpenSSL's 512-bit DH minimum and 104 µs for BigInt
 * square-and-multiply); the even part is finished by BigInt squarings.
 */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent < 0n || modulus <= 0n) throw new RangeError('modPow: negative exponent or modulus');
  let b = base % modulus;
  if (b < 0n) b += modulus;
  if (
    (modulus & 1n) === 0n ||
    b <= 1n ||
    exponent <= 2n ||
    modulus.toString(2).length < NATIVE_MIN_BITS
  ) {
    return modPowBigint(b, exponent, modulus);
  }
  let odd = exponent;
  let twos = 0;
  while ((odd & 1n) === 0n) {
    odd >>= 1n;
    twos++;
  }
  let r = odd === 1n ? b : rsaRawPow(b, odd, modulus);
  if (r === undefined) return modPowBigint(b, exponent, modulus);
  for (let i = 0; i < twos; i++) r = (r * r) % modulus;
  return r;
}
