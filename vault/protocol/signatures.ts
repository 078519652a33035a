import { schnorr } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';

/**
 * BIP-340 Schnorr over the canonical message bytes. The message is the full canonical encoding
 * (domain tag included), so a signature for one message type can never verify as another.
 * `auxRand` is BIP-340's auxiliary randomness: an input, so signing is deterministic under test.
 */
export function signMessage(
  message: Uint8Array,
  secretKey: Uint8Array,
  auxRand: Uint8Array,
): Uint8Array {
  return schnorr.sign(message, secretKey, auxRand);
}

export function verifyMessage(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    return schnorr.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

export function requireSignature(
  what: string,
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): void {
  if (!verifyMessage(signature, message, publicKey)) {
    throw new VaultError('BAD_SIGNATURE', `${what}: signature does not verify`, 401);
  }
}

export function xOnlyPublicKey(secretKey: Uint8Array): Uint8Array {
  return schnorr.getPublicKey(secretKey);
}
