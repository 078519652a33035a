import { sha256 } from '@noble/hashes/sha2.js';
import { VaultError } from '../errors.ts';
import { canonical, canonicalHash } from './canonical.ts';
import {
  bytesToBigInt,
  CURVE_ORDER,
  decodePoint,
  decodeScalar,
  encodePoint,
  mod,
  Point,
  scalarToBytes,
} from './curve.ts';

/**
 * Schnorr proof of knowledge of x1 for Q1 = x1·G, made non-interactive with a Fiat–Shamir
 * challenge bound to everything that makes a claim this claim: the cluster, the wallet, the
 * ephemeral key the share will be encrypted to, the vault-issued claim nonce, Q1 and R. A proof
 * copied from one claim is therefore useless for any other claim, wallet, cluster or recipient.
 */
export interface ClaimBinding {
  clusterId: Uint8Array;
  walletId: Uint8Array;
  ephemeralKey: Uint8Array;
  claimNonce: Uint8Array;
}

export interface ClaimProof {
  /** Commitment R = k·G, 33-byte compressed. */
  r: Uint8Array;
  /** Response s = k + e·x1 mod n, 32 bytes. */
  s: Uint8Array;
}

export function proveClaim(args: {
  x1: Uint8Array;
  q1: Uint8Array;
  binding: ClaimBinding;
  /** 32 random bytes; mixed with x1 and the binding so a weak RNG alone cannot leak x1. */
  aux: Uint8Array;
}): ClaimProof {
  const x1 = decodeScalar('x1', args.x1);
  const b = args.binding;
  const k = mod(
    bytesToBigInt(
      canonicalHash('vigil/v1/claim-pok/nonce', [
        args.x1,
        args.aux,
        b.clusterId,
        b.walletId,
        b.ephemeralKey,
        b.claimNonce,
        args.q1,
      ]),
    ),
  );
  if (k === 0n) throw new Error('claim proof: degenerate nonce, retry with other aux bytes');
  const r = encodePoint(Point.BASE.multiply(k));
  const e = claimChallenge(b, args.q1, r);
  return { r, s: scalarToBytes(mod(k + e * x1)) };
}

/** Throws a 401 `BAD_CLAIM_PROOF` unless s·G == R + e·Q1. */
export function verifyClaimProof(q1: Uint8Array, binding: ClaimBinding, proof: ClaimProof): void {
  const q1Point = decodePoint('q1', q1);
  const rPoint = decodePoint('proof.r', proof.r);
  const s = decodeScalar('proof.s', proof.s);
  const e = claimChallenge(binding, q1, proof.r);
  const lhs = Point.BASE.multiply(s);
  const rhs = e === 0n ? rPoint : rPoint.add(q1Point.multiply(e));
  if (!lhs.equals(rhs)) {
    throw new VaultError('BAD_CLAIM_PROOF', 'claim proof of knowledge does not verify', 401);
  }
}

export function claimProofMessage(
  binding: ClaimBinding,
  q1: Uint8Array,
  r: Uint8Array,
): Uint8Array {
  return canonical('vigil/v1/claim-pok', [
    binding.clusterId,
    binding.walletId,
    binding.ephemeralKey,
    binding.claimNonce,
    q1,
    r,
  ]);
}

function claimChallenge(binding: ClaimBinding, q1: Uint8Array, r: Uint8Array): bigint {
  return mod(bytesToBigInt(sha256(claimProofMessage(binding, q1, r))), CURVE_ORDER);
}
