import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { bigintToMinimalBytes, bytesToBigint } from '../bytes.ts';

function base64url(v: bigint): string {
  return Buffer.from(bigintToMinimalBytes(v)).toString('base64url');
}

/**
 * b^e mod m for odd e through OpenSSL's raw RSA public operation (m^e mod n with no padding),
 * which runs Montgomery exponentiation for any odd modulus. Undefined if OpenSSL refuses.
 */
export function opensslOddPow(b: bigint, oddExponent: bigint, modulus: bigint): bigint | undefined {
  const n = bigintToMinimalBytes(modulus);
  try {
    const key = createPublicKey({
      key: { kty: 'RSA', n: base64url(modulus), e: base64url(oddExponent) },
      format: 'jwk',
    });
    const message = new Uint8Array(n.length);
    const bBytes = bigintToMinimalBytes(b);
    message.set(bBytes, n.length - bBytes.length);
    return bytesToBigint(publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, message));
  } catch {
    return undefined;
  }
}
