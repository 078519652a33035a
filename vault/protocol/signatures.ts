import { schnorr } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import { bytesToBigInt, CURVE_ORDER, mulBase } from './curve.ts';
import { primitives } from './primitives.ts';

/**
 * BIP-340 Schnorr over a 32-byte digest of the canonical message bytes: the tagged hash
 * (BIP-340's construction) `vigil/v1/signed-message` of the full canonical encoding, whose own
 * domain tag keeps a signature for one message type from verifying as another; the digest's tag
 * keeps these signatures apart from any other use of the same key. Signing a digest lets Node
 * shells run libsecp256k1's own BIP-340 (one joint multiplication per verify, half the cost of
 * composing it from point operations); the client SDK runs noble's. `auxRand` is BIP-340's
 * auxiliary randomness: an input, so signing is deterministic under test. The tests check both
 * against each other and against the BIP-340 vectors.
 */
export const SIGNED_MESSAGE_TAG = 'vigil/v1/signed-message';

export function messageDigest(message: Uint8Array): Uint8Array {
  return schnorr.utils.taggedHash(SIGNED_MESSAGE_TAG, message);
}

const FIELD_PRIME = 2n ** 256n - 0x1000003d1n;

/** A BIP-340 signing key with its x-only public key derived once, not on every signature. */
export class SigningKey {
  readonly publicKey: Uint8Array;
  readonly #secretKey: Uint8Array;

  constructor(secretKey: Uint8Array) {
    this.publicKey = mulBase(secretKey).slice(1);
    this.#secretKey = Uint8Array.from(secretKey);
  }

  /**
   * BIP-340 Sign, followed by the verification BIP-340 recommends against fault attacks (a
   * faulty signature can leak the key).
   */
  sign(message: Uint8Array, auxRand: Uint8Array): Uint8Array {
    if (auxRand.length !== 32) throw new Error('auxRand: 32 bytes');
    const digest = messageDigest(message);
    const ec = primitives();
    const signature = ec.schnorrSign(digest, this.#secretKey, auxRand);
    if (!ec.schnorrVerify(signature, digest, this.publicKey)) {
      throw new Error('BIP-340: produced a signature that does not verify');
    }
    return signature;
  }
}

export function signMessage(
  message: Uint8Array,
  secretKey: Uint8Array,
  auxRand: Uint8Array,
): Uint8Array {
  return new SigningKey(secretKey).sign(message, auxRand);
}

/**
 * BIP-340 Verify of the message's digest. Like noble, it also refuses r = 0 and s = 0, which
 * honest signing reaches with negligible probability (libsecp256k1 alone would accept s = 0).
 */
export function verifyMessage(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const r = bytesToBigInt(signature.subarray(0, 32));
  const s = bytesToBigInt(signature.subarray(32, 64));
  if (r === 0n || r >= FIELD_PRIME || s === 0n || s >= CURVE_ORDER) return false;
  return primitives().schnorrVerify(signature, messageDigest(message), publicKey);
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
  return new SigningKey(secretKey).publicKey;
}
