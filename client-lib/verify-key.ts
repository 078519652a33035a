/**
 * "The key works in any wallet": sign with the recovered key through one implementation and verify
 * through an independent one. Here node:crypto (OpenSSL) signs ECDSA over secp256k1 with the key
 * imported as a JWK, and the signature is verified against a public key built only from the
 * wallet's Q (SPKI/JWK), again by OpenSSL, and by noble as a second opinion. A BIP-340 signature
 * made by noble is checked against Q's x coordinate.
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodePoint, utf8 } from '../vault/index.ts';
import { ClientError } from './errors.ts';
import { bip340SecretKey } from './keys.ts';

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function coords(q: Uint8Array): { x: Uint8Array; y: Uint8Array } {
  const raw = decodePoint('q', q).toBytes(false);
  return { x: raw.subarray(1, 33), y: raw.subarray(33, 65) };
}

export interface KeyCheck {
  opensslEcdsa: boolean;
  nobleVerifiesOpenssl: boolean;
  bip340: boolean;
}

/** Throws KEY_MISMATCH unless every check passes. `message` is any test message. */
export function checkKeyIndependently(
  secretKey: Uint8Array,
  q: Uint8Array,
  message: Uint8Array = utf8('vigil recovered key check'),
): KeyCheck {
  const { x, y } = coords(q);
  const privateKey = createPrivateKey({
    key: { kty: 'EC', crv: 'secp256k1', d: b64url(secretKey), x: b64url(x), y: b64url(y) },
    format: 'jwk',
  });
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'secp256k1', x: b64url(x), y: b64url(y) },
    format: 'jwk',
  });
  const spki = createPublicKey({
    key: publicKey.export({ format: 'der', type: 'spki' }),
    format: 'der',
    type: 'spki',
  });
  const der = sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
  const p1363 = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const opensslEcdsa =
    verify('sha256', message, spki, der) &&
    verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, p1363);
  const nobleVerifiesOpenssl = secp256k1.verify(p1363, sha256(message), q, {
    prehash: false,
    lowS: false,
  });
  const digest = sha256(message);
  const sig = schnorr.sign(digest, bip340SecretKey(secretKey), new Uint8Array(32));
  const bip340 = schnorr.verify(sig, digest, x);
  const result = { opensslEcdsa, nobleVerifiesOpenssl, bip340 };
  if (!opensslEcdsa || !nobleVerifiesOpenssl || !bip340) {
    throw new ClientError('KEY_MISMATCH', 'the recovered key does not sign for Q');
  }
  return result;
}
