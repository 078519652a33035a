import { canonicalHash } from './canonical.ts';
import {
  bytesToBigInt,
  CURVE_ORDER,
  decodePoint,
  decodeScalar,
  encodePoint,
  mod,
  mulBase,
  scalarToBytes,
} from './curve.ts';
import { bytesEqual, concatBytes } from './hex.ts';
import { primitives } from './primitives.ts';

/**
 * The multiplicative scheme's share proof (docs/protocol.md §5): a Chaum–Pedersen proof, made
 * non-interactive by Fiat–Shamir, that one x2 gives both Q2 = x2·G and Q = x2·Q1. The cosigner,
 * who holds x2, makes it; the vault checks it on public points only, and with x2·G == Q2 (which
 * it checks on the opened share) that is Q = x2·Q1. Checking that product directly needs a
 * constant-time multiplication by the secret x2 (3 ms in noble, most of a deposit's cost); the
 * proof's check may use libsecp256k1's variable-time multiplication, as it handles no secret.
 *
 * The challenge binds the cluster and the wallet, so a proof is good for one deposit statement.
 */
export const SHARE_PROOF_BYTES = 64;

export interface ShareStatement {
  clusterId: Uint8Array;
  walletId: Uint8Array;
  q: Uint8Array;
  q1: Uint8Array;
  q2: Uint8Array;
}

/** e ‖ s (32 bytes each), with R1 = k·G, R2 = k·Q1, e = H(statement, R1, R2), s = k + e·x2. */
export function proveShareProduct(
  statement: ShareStatement,
  x2Bytes: Uint8Array,
  /** 32 random bytes; mixed with x2 and the statement so a weak RNG alone cannot leak x2. */
  aux: Uint8Array,
): Uint8Array {
  const x2 = decodeScalar('x2', x2Bytes);
  const k = mod(
    bytesToBigInt(
      canonicalHash('vigil/v1/deposit/share-proof/nonce', [x2Bytes, aux, ...fields(statement)]),
    ),
  );
  if (k === 0n) throw new Error('share proof: degenerate nonce, retry with other aux bytes');
  const kBytes = scalarToBytes(k);
  const r1 = mulBase(kBytes);
  kBytes.fill(0);
  // k is secret: the product with Q1 is noble's constant-time one
  const r2 = encodePoint(decodePoint('q1', statement.q1).multiply(k));
  const e = challenge(statement, r1, r2);
  return concatBytes(scalarToBytes(e), scalarToBytes(mod(k + e * x2)));
}

/** True only for a proof of this statement (any malformed point or scalar: false). */
export function verifyShareProduct(statement: ShareStatement, proof: Uint8Array): boolean {
  if (proof.length !== SHARE_PROOF_BYTES) return false;
  const eBytes = proof.subarray(0, 32);
  const sBytes = proof.subarray(32, 64);
  const e = bytesToBigInt(eBytes);
  const s = bytesToBigInt(sBytes);
  if (e === 0n || e >= CURVE_ORDER || s === 0n || s >= CURVE_ORDER) return false;
  const minusE = scalarToBytes(CURVE_ORDER - e);
  try {
    // R1 = s·G − e·Q2 and R2 = s·Q1 − e·Q, public data only
    const ec = primitives();
    const eQ2 = ec.pointMultiply(statement.q2, minusE);
    const sQ1 = ec.pointMultiply(statement.q1, sBytes);
    const eQ = ec.pointMultiply(statement.q, minusE);
    if (eQ2 === null || sQ1 === null || eQ === null) return false;
    const r1 = ec.pointAddScalar(eQ2, sBytes);
    const r2 = ec.pointAdd(sQ1, eQ);
    if (r1 === null || r2 === null) return false;
    return bytesEqual(scalarToBytes(challenge(statement, r1, r2)), eBytes);
  } catch {
    return false; // not points on the curve
  }
}

function challenge(statement: ShareStatement, r1: Uint8Array, r2: Uint8Array): bigint {
  return mod(
    bytesToBigInt(canonicalHash('vigil/v1/deposit/share-proof', [...fields(statement), r1, r2])),
  );
}

function fields(s: ShareStatement): Uint8Array[] {
  return [s.clusterId, s.walletId, s.q1, s.q2, s.q];
}
