import { schnorr } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import { bytesToBigInt, CURVE_ORDER, mod, mulBase, scalarToBytes } from './curve.ts';
import { bytesEqual, concatBytes } from './hex.ts';
import { primitives } from './primitives.ts';

/**
 * BIP-340 Schnorr over the canonical message bytes. The message is the full canonical encoding
 * (domain tag included), so a signature for one message type can never verify as another.
 * `auxRand` is BIP-340's auxiliary randomness: an input, so signing is deterministic under test.
 *
 * The curve arithmetic is the process's primitives (primitives.ts: libsecp256k1 in Node shells,
 * noble in the client SDK); the BIP-340 steps are written out here because libsecp256k1's sign
 * and verify take 32-byte messages only, and ours are longer. Secret scalars meet the curve only
 * in the constant-time `mulBase`; verification handles public data alone. The tests check every step against noble
 * and the BIP-340 vectors.
 */

const FIELD_PRIME = 2n ** 256n - 0x1000003d1n;
const EVEN_Y = 0x02;
const taggedHash = schnorr.utils.taggedHash;

/** A BIP-340 signing key with its x-only public key derived once, not on every signature. */
export class SigningKey {
  readonly publicKey: Uint8Array;
  /** The secret negated where needed so that d·G has an even y (BIP-340's d). */
  readonly #d: bigint;

  constructor(secretKey: Uint8Array) {
    const p = mulBase(secretKey);
    const d = bytesToBigInt(secretKey);
    this.#d = p[0] === EVEN_Y ? d : CURVE_ORDER - d;
    this.publicKey = p.slice(1);
  }

  /**
   * BIP-340 Sign, followed by the verification BIP-340 recommends against fault attacks (a
   * faulty signature can leak the key); it costs less than a third of noble's signing alone.
   */
  sign(message: Uint8Array, auxRand: Uint8Array): Uint8Array {
    if (auxRand.length !== 32) throw new Error('auxRand: 32 bytes');
    const t = scalarToBytes(this.#d ^ bytesToBigInt(taggedHash('BIP0340/aux', auxRand)));
    const rand = taggedHash('BIP0340/nonce', t, this.publicKey, message);
    t.fill(0);
    const k0 = mod(bytesToBigInt(rand));
    rand.fill(0);
    if (k0 === 0n) throw new Error('BIP-340: nonce is zero');
    const k0Bytes = scalarToBytes(k0);
    const r = mulBase(k0Bytes);
    k0Bytes.fill(0);
    const k = r[0] === EVEN_Y ? k0 : CURVE_ORDER - k0;
    const rx = r.slice(1);
    const e = challenge(rx, this.publicKey, message);
    const signature = concatBytes(rx, scalarToBytes(mod(k + e * this.#d)));
    if (!verifyMessage(signature, message, this.publicKey)) {
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
 * BIP-340 Verify. Like noble, it also refuses r = 0 and s = 0, which honest signing reaches with
 * negligible probability.
 */
export function verifyMessage(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const rx = signature.subarray(0, 32);
  const r = bytesToBigInt(rx);
  const s = signature.subarray(32, 64);
  const sv = bytesToBigInt(s);
  if (r === 0n || r >= FIELD_PRIME || sv === 0n || sv >= CURVE_ORDER) return false;
  const p = concatBytes(Uint8Array.of(EVEN_Y), publicKey);
  const ec = primitives();
  if (!ec.isPointCompressed(p)) return false;
  const e = challenge(rx, publicKey, message);
  // R = s·G − e·P = s·G + (n − e)·P
  const negEP = e === 0n ? null : ec.pointMultiply(p, scalarToBytes(CURVE_ORDER - e));
  const rPoint = negEP === null ? mulBase(s) : ec.pointAddScalar(negEP, s);
  return rPoint !== null && rPoint[0] === EVEN_Y && bytesEqual(rPoint.subarray(1), rx);
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

function challenge(rx: Uint8Array, publicKey: Uint8Array, message: Uint8Array): bigint {
  return mod(bytesToBigInt(taggedHash('BIP0340/challenge', rx, publicKey, message)));
}
