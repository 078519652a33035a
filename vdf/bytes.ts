/** Big-endian integer and hex codecs shared by the VDF encodings (portable: no Buffer). */

import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(`0x${bytesToHex(bytes)}`);
}

/** Fixed-width big-endian; throws when `v` does not fit (a bug in the caller, not bad input). */
export function bigintToBytes(v: bigint, length: number): Uint8Array {
  if (v < 0n) throw new RangeError('negative integer has no unsigned encoding');
  const hex = v.toString(16);
  if (hex.length > length * 2) throw new RangeError(`integer does not fit in ${length} bytes`);
  return hexToBytes(hex.padStart(length * 2, '0'));
}

/** Minimal big-endian bytes (at least one byte). */
export function bigintToMinimalBytes(v: bigint): Uint8Array {
  const hex = v.toString(16);
  return hexToBytes(hex.length % 2 === 1 ? `0${hex}` : hex);
}

export function u64be(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError('u64 must be a non-negative safe integer');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** Strict lowercase hex of even length; returns undefined for anything else. */
export function fromHexStrict(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return undefined;
  return hexToBytes(hex);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const encoder = new TextEncoder();
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
