import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { VaultError } from '../errors.ts';

const HEX = /^[0-9a-f]*$/;

/** Strict lowercase hex of exactly `bytes` bytes; anything else is a 400 naming the field. */
export function parseHex(field: string, value: unknown, bytes: number): Uint8Array {
  if (typeof value !== 'string') throw new VaultError('BAD_HEX', `${field}: expected a hex string`);
  if (value.length !== bytes * 2) {
    throw new VaultError(
      'BAD_LENGTH',
      `${field}: expected ${bytes} bytes (${bytes * 2} hex chars)`,
    );
  }
  if (!HEX.test(value)) throw new VaultError('BAD_HEX', `${field}: expected lowercase hex`);
  return hexToBytes(value);
}

/** Strict lowercase hex whose byte length is one of `allowed` (for group-dependent sizes). */
export function parseHexOneOf(
  field: string,
  value: unknown,
  allowed: readonly number[],
): Uint8Array {
  if (typeof value !== 'string') throw new VaultError('BAD_HEX', `${field}: expected a hex string`);
  if (!allowed.some((n) => value.length === n * 2)) {
    throw new VaultError('BAD_LENGTH', `${field}: expected one of ${allowed.join(', ')} bytes`);
  }
  if (!HEX.test(value)) throw new VaultError('BAD_HEX', `${field}: expected lowercase hex`);
  return hexToBytes(value);
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
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
