import { secp256k1 } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import { primitives } from './primitives.ts';

/** secp256k1 helpers: every point and scalar entering Vigil passes through one of these. */
export const Point = secp256k1.Point;
export type Point = InstanceType<typeof secp256k1.Point>;
export const CURVE_ORDER: bigint = secp256k1.Point.Fn.ORDER;

/** A 33-byte SEC1 compressed point, on the curve, not the point at infinity. */
export function decodePoint(field: string, bytes: Uint8Array): Point {
  checkCompressedShape(field, bytes);
  let p: Point;
  try {
    p = Point.fromBytes(bytes);
    p.assertValidity();
  } catch {
    throw notOnCurve(field);
  }
  if (p.is0()) throw new VaultError('BAD_POINT', `${field}: the point at infinity`);
  return p;
}

/**
 * `decodePoint`'s checks, for a caller that needs only the bytes: with the Node primitives,
 * libsecp256k1 parses a point in a third of the time noble takes to decompress it.
 */
export function checkPoint(field: string, bytes: Uint8Array): Uint8Array {
  checkCompressedShape(field, bytes);
  if (!primitives().isPointCompressed(bytes)) throw notOnCurve(field);
  return bytes;
}

/** The shape of a compressed point (33 bytes, prefix 02 or 03), not whether it is on the curve. */
export function checkCompressedShape(field: string, bytes: Uint8Array): void {
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) {
    throw new VaultError('BAD_POINT', `${field}: expected a 33-byte compressed secp256k1 point`);
  }
}

const notOnCurve = (field: string) =>
  new VaultError('BAD_POINT', `${field}: not a point on secp256k1`);

/** A 32-byte BIP-340 x-only public key that lifts to a curve point. */
export function checkXOnlyKey(field: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 32) throw new VaultError('BAD_POINT', `${field}: expected 32 bytes`);
  if (!primitives().isXOnlyPoint(bytes)) {
    throw new VaultError('BAD_POINT', `${field}: not an x-only secp256k1 public key`);
  }
  return bytes;
}

/** A 32-byte big-endian scalar with 1 <= s < n. */
export function decodeScalar(field: string, bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new VaultError('BAD_SCALAR', `${field}: expected 32 bytes`);
  const s = bytesToBigInt(bytes);
  if (s === 0n || s >= CURVE_ORDER) {
    throw new VaultError('BAD_SCALAR', `${field}: scalar must be in [1, n)`);
  }
  return s;
}

export function scalarToBytes(s: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = s;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** x·G as a 33-byte compressed point, for a secret x in [1, n) as 32 bytes, in constant time. */
export function mulBase(x: Uint8Array): Uint8Array {
  const p = primitives().mulBase(x);
  if (p === null) throw new VaultError('BAD_SCALAR', 'scalar must be 32 bytes in [1, n)');
  return p;
}

export function encodePoint(p: Point): Uint8Array {
  return p.toBytes(true);
}

export function mod(a: bigint, m: bigint = CURVE_ORDER): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
