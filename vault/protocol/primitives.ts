import { x25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';

/**
 * The few curve operations the protocol spends its time in, behind one seam. The protocol code
 * runs the same everywhere; only these primitives differ:
 * - noble's (pure JavaScript, audited): the default, and what the client SDK runs in browsers,
 *   React Native and Node (docs/sdk.md);
 * - libsecp256k1 and OpenSSL (node-primitives.ts), five to nine times faster, which
 *   `vault/protocol/index.ts` installs in every Node process that loads the vault's full face:
 *   the vault, the cosigner and the CLI.
 * Both sets pass the same tests against noble and the BIP-340 and RFC 7748 vectors.
 */
export interface Primitives {
  /** A 33-byte SEC1 compressed encoding of a point on secp256k1, not infinity. */
  isPointCompressed(bytes: Uint8Array): boolean;
  /** A 32-byte x coordinate that lifts to a point on secp256k1 (BIP-340). */
  isXOnlyPoint(bytes: Uint8Array): boolean;
  /** x·G compressed, constant time in x; null unless x is 32 bytes in [1, n). */
  mulBase(x: Uint8Array): Uint8Array | null;
  /** k·P for public P and k (compressed); null at infinity. Throws on a point off the curve. */
  pointMultiply(p: Uint8Array, k: Uint8Array): Uint8Array | null;
  /** A + B (compressed); null at infinity. */
  pointAdd(a: Uint8Array, b: Uint8Array): Uint8Array | null;
  /** P + t·G (compressed); null at infinity. */
  pointAddScalar(p: Uint8Array, t: Uint8Array): Uint8Array | null;
  /** BIP-340 Sign of a 32-byte digest (constant time in the secret); no check of the result. */
  schnorrSign(digest: Uint8Array, secretKey: Uint8Array, auxRand: Uint8Array): Uint8Array;
  /** BIP-340 Verify of a 32-byte digest; false (never a throw) for any malformed input. */
  schnorrVerify(signature: Uint8Array, digest: Uint8Array, xOnlyKey: Uint8Array): boolean;
  /** An X25519 key pair from a 32-byte secret, prepared once for many agreements. */
  x25519KeyPair(secretKey: Uint8Array): X25519KeyPair;
}

export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  /** X25519(own secret, peer); throws on a low-order peer key (all-zero result, RFC 7748 §6.1). */
  sharedSecret(peerPublicKey: Uint8Array): Uint8Array;
}

const Point = secp256k1.Point;
const ORDER = Point.Fn.ORDER;

function scalar(bytes: Uint8Array): bigint | null {
  if (bytes.length !== 32) return null;
  const v = bytesToNumberBE(bytes);
  return v === 0n || v >= ORDER ? null : v;
}

function compressed(p: InstanceType<typeof Point>): Uint8Array | null {
  return p.is0() ? null : p.toBytes(true);
}

function decode(bytes: Uint8Array): InstanceType<typeof Point> {
  if (bytes.length !== 33) throw new Error('expected a 33-byte compressed point');
  return Point.fromBytes(bytes);
}

export const noblePrimitives: Primitives = {
  isPointCompressed(bytes) {
    if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) return false;
    try {
      return !Point.fromBytes(bytes).is0();
    } catch {
      return false;
    }
  },
  isXOnlyPoint(bytes) {
    if (bytes.length !== 32) return false;
    try {
      schnorr.utils.lift_x(bytesToNumberBE(bytes));
      return true;
    } catch {
      return false;
    }
  },
  mulBase(x) {
    const k = scalar(x);
    return k === null ? null : Point.BASE.multiply(k).toBytes(true);
  },
  pointMultiply(p, k) {
    const s = scalar(k);
    if (s === null) throw new Error('expected a scalar in [1, n)');
    return compressed(decode(p).multiply(s));
  },
  pointAdd(a, b) {
    return compressed(decode(a).add(decode(b)));
  },
  pointAddScalar(p, t) {
    const s = scalar(t);
    if (s === null) throw new Error('expected a scalar in [1, n)');
    return compressed(decode(p).add(Point.BASE.multiply(s)));
  },
  schnorrSign: (digest, secretKey, auxRand) => schnorr.sign(digest, secretKey, auxRand),
  schnorrVerify(signature, digest, xOnlyKey) {
    try {
      return schnorr.verify(signature, digest, xOnlyKey);
    } catch {
      return false;
    }
  },
  x25519KeyPair(secretKey) {
    const secret = Uint8Array.from(secretKey);
    return {
      publicKey: x25519.getPublicKey(secret),
      sharedSecret: (peer) => x25519.getSharedSecret(secret, peer),
    };
  },
};

let active: Primitives = noblePrimitives;

/** The primitives in use in this process (noble unless a Node shell installed faster ones). */
export function primitives(): Primitives {
  return active;
}

export function usePrimitives(p: Primitives): void {
  active = p;
}
