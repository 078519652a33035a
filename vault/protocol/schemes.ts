import { keyAggregate } from '@scure/btc-signer/musig2.js';
import { VaultError } from '../errors.ts';
import { decodePoint, decodeScalar, encodePoint, mulBase, type Point } from './curve.ts';
import { bytesEqual } from './hex.ts';
import { type ShareStatement, verifyShareProduct } from './share-proof.ts';

/**
 * How the two shares combine into the wallet key Q (docs/protocol.md "Wallet schemes").
 * - ecdsa-2p-mult: two-party ECDSA with multiplicative shares, x = x1·x2, so Q = x2·Q1.
 * - additive: x = x1 + x2, so Q = Q1 + Q2.
 * - musig2: BIP-327 KeyAgg over the two plain (33-byte) keys in KeySort order; Q is the aggregate
 *   point before x-only conversion (its x coordinate is the Taproot/BIP-340 key).
 */
export const SCHEMES = ['ecdsa-2p-mult', 'additive', 'musig2'] as const;
export type Scheme = (typeof SCHEMES)[number];

export function isScheme(v: unknown): v is Scheme {
  return typeof v === 'string' && (SCHEMES as readonly string[]).includes(v);
}

/**
 * Checks that Q1 and Q2 combine into Q under the deposit's scheme, on public data only: the
 * additive and MuSig2 keys from Q1 and Q2, the multiplicative Q = x2·Q1 from the cosigner's
 * share proof (share-proof.ts; with x2·G == Q2, checked by `checkDepositShare` on the opened
 * share, it shows Q = x2·Q1). Throws 400 `SCHEME_MISMATCH` otherwise.
 */
export function checkSchemeCombination(
  d: ShareStatement & { scheme: Scheme; shareProof: Uint8Array },
): void {
  if (d.scheme === 'ecdsa-2p-mult') {
    if (!verifyShareProduct(d, d.shareProof)) {
      throw new VaultError('SCHEME_MISMATCH', 'the share proof does not show Q = x2·Q1');
    }
    return;
  }
  if (!bytesEqual(combinePublic(d.scheme, d.q1, d.q2), d.q)) {
    throw new VaultError('SCHEME_MISMATCH', `Q1 and Q2 do not combine to Q under ${d.scheme}`);
  }
}

/**
 * The opened share against Q2: 1 <= x2 < n (400 `BAD_SCALAR`), Q2 a valid point (400
 * `BAD_POINT`), x2·G == Q2 (400 `SHARE_MISMATCH`), in libsecp256k1's constant-time ecmult_gen.
 * The caller zeroes x2.
 */
export function checkDepositShare(args: { q2: Uint8Array; x2: Uint8Array }): void {
  decodeScalar('share', args.x2);
  if (!bytesEqual(mulBase(args.x2), args.q2)) {
    // Equal to x2·G, Q2 is a valid point; only a mismatch needs decoding, to say which 400.
    decodePoint('q2', args.q2);
    throw new VaultError('SHARE_MISMATCH', 'the sealed share does not match Q2');
  }
}

/** The wallet key implied by the public shares (and x2 for the multiplicative scheme). */
export function combinePublic(
  scheme: Exclude<Scheme, 'ecdsa-2p-mult'>,
  q1: Uint8Array,
  q2: Uint8Array,
): Uint8Array {
  const p1 = decodePoint('q1', q1);
  switch (scheme) {
    case 'additive': {
      const sum: Point = p1.add(decodePoint('q2', q2));
      if (sum.is0()) throw new VaultError('SCHEME_MISMATCH', 'Q1 + Q2 is the point at infinity');
      return encodePoint(sum);
    }
    case 'musig2': {
      const [a, b] = compareBytes(q1, q2) <= 0 ? [q1, q2] : [q2, q1];
      try {
        return encodePoint(keyAggregate([a, b]).aggPublicKey);
      } catch {
        throw new VaultError('SCHEME_MISMATCH', 'MuSig2 key aggregation of Q1, Q2 failed');
      }
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
