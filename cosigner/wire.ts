/**
 * Wire encoding of protocol values as JSON-safe strings, and the parsers that validate everything
 * received: every integer has a bit bound, every point is on the curve and not the identity, every
 * scalar is in range. Parsers throw CosignerError and name the field, never its value.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bitLength } from './bigint.ts';
import { invalidElement, malformed } from './errors.ts';

export const Point = secp256k1.Point;
export type Point = InstanceType<typeof secp256k1.Point>;
export const CURVE_ORDER: bigint = secp256k1.Point.Fn.ORDER;
export const G: Point = secp256k1.Point.BASE;

const HEX = /^[0-9a-f]+$/;

export function intToWire(value: bigint): string {
  return value < 0n ? `-${(-value).toString(16)}` : value.toString(16);
}

export function parseWireInt(
  field: string,
  value: unknown,
  maxBits: number,
  signed = false,
): bigint {
  if (typeof value !== 'string') throw malformed(`${field} must be a hex string`);
  const negative = value.startsWith('-');
  const digits = negative ? value.slice(1) : value;
  if (negative && !signed) throw malformed(`${field} must not be negative`);
  if (digits.length === 0 || digits.length > Math.ceil(maxBits / 4) + 1 || !HEX.test(digits)) {
    throw malformed(`${field} is not a hex integer of at most ${maxBits} bits`);
  }
  const magnitude = BigInt(`0x${digits}`);
  if (bitLength(magnitude) > maxBits) throw malformed(`${field} exceeds ${maxBits} bits`);
  return negative ? -magnitude : magnitude;
}

export function pointToWire(p: Point): string {
  return p.toHex(true);
}

/** A compressed point on secp256k1, not the identity. */
export function parsePoint(field: string, value: unknown): Point {
  if (typeof value !== 'string' || value.length !== 66 || !HEX.test(value)) {
    throw malformed(`${field} must be a 33-byte compressed point in hex`);
  }
  let p: Point;
  try {
    p = Point.fromHex(value);
    p.assertValidity();
  } catch {
    throw invalidElement(`${field} is not a point on secp256k1`);
  }
  if (p.is0()) throw invalidElement(`${field} is the identity`);
  return p;
}

export function scalarToWire(s: bigint): string {
  return s.toString(16).padStart(64, '0');
}

/** A scalar in [1, n) (or [0, n) when zero is allowed). */
export function parseScalar(field: string, value: unknown, allowZero = false): bigint {
  if (typeof value !== 'string' || value.length !== 64 || !HEX.test(value)) {
    throw malformed(`${field} must be a 32-byte scalar in hex`);
  }
  const s = BigInt(`0x${value}`);
  if (s >= CURVE_ORDER || (!allowZero && s === 0n)) {
    throw invalidElement(`${field} is not a scalar in range`);
  }
  return s;
}

export function bytesToWire(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function parseBytes(field: string, value: unknown, length: number): Uint8Array {
  if (typeof value !== 'string' || value.length !== length * 2 || !HEX.test(value)) {
    throw malformed(`${field} must be ${length} bytes in hex`);
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

export function parseArray<T>(
  field: string,
  value: unknown,
  length: number,
  item: (field: string, v: unknown) => T,
): T[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw malformed(`${field} must be an array of exactly ${length} items`);
  }
  return value.map((v, i) => item(`${field}[${i}]`, v));
}

export function field(obj: unknown, name: string): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw malformed(`expected an object holding ${name}`);
  }
  return (obj as Record<string, unknown>)[name];
}

export function scalarMod(a: bigint): bigint {
  const r = a % CURVE_ORDER;
  return r < 0n ? r + CURVE_ORDER : r;
}
