/**
 * Non-hardened BIP-32 derivation on a joint public key (CKDpub). Hardened steps need the whole
 * private key, which nobody holds, so they are refused. The derivation yields a public tweak t
 * with Q_child = Q + t·G: for ECDSA the client adds t to its additive share (the server's share and
 * ckey stay untouched), for MuSig2 t becomes a plain tweak of the aggregate key (BIP-328).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToBigInt } from './bigint.ts';
import { CosignerError, malformed } from './errors.ts';
import { concat } from './transcript.ts';
import { CURVE_ORDER, G, type Point, scalarMod } from './wire.ts';

export const HARDENED = 0x80000000;

export interface Derived {
  readonly publicKey: Point;
  readonly chainCode: Uint8Array;
  /** Sum of the step tweaks mod q: Q_child = Q + tweak·G. */
  readonly tweak: bigint;
  /** Each step's tweak, in order (MuSig2 applies them one by one). */
  readonly stepTweaks: readonly bigint[];
}

export function assertPath(path: readonly number[]): void {
  if (path.length > 255) throw malformed('derivation path is longer than 255 steps');
  for (const i of path) {
    if (!Number.isInteger(i) || i < 0 || i >= 2 ** 32)
      throw malformed('derivation index out of range');
    if (i >= HARDENED) {
      throw new CosignerError(
        'COSIGNER_UNSUPPORTED',
        'hardened derivation needs the whole private key; only non-hardened steps are supported',
      );
    }
  }
}

export function derivePublic(
  publicKey: Point,
  chainCode: Uint8Array,
  path: readonly number[],
): Derived {
  assertPath(path);
  let key = publicKey;
  let cc = chainCode;
  let tweak = 0n;
  const stepTweaks: bigint[] = [];
  for (const index of path) {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, index);
    const I = hmac(sha512, cc, concat([key.toBytes(true), data]));
    const il = bytesToBigInt(I.subarray(0, 32));
    // BIP-32 says "proceed with the next index" here; probability < 2^-127, so we just refuse.
    if (il >= CURVE_ORDER)
      throw malformed('derivation step yields an invalid key; use another index');
    const child = key.add(G.multiply(il));
    if (child.is0()) throw malformed('derivation step yields the identity; use another index');
    key = child;
    cc = I.slice(32);
    tweak = scalarMod(tweak + il);
    stepTweaks.push(il);
  }
  return { publicKey: key, chainCode: cc, tweak, stepTweaks };
}
