import { sha256 } from '@noble/hashes/sha2.js';
import { VaultError } from '../errors.ts';

/**
 * The one canonical encoder for everything Vigil signs, hashes or uses as associated data:
 * u32(len(tag)) ‖ tag ‖ for each field: u32(len(field)) ‖ field. Length-prefixing the tag too
 * means no tag can be a prefix-collision of another tag followed by field bytes.
 */
export function canonical(tag: string, fields: readonly Uint8Array[]): Uint8Array {
  const tagBytes = ascii(tag);
  let total = 4 + tagBytes.length;
  for (const f of fields) total += 4 + f.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  const put = (bytes: Uint8Array): void => {
    view.setUint32(at, bytes.length, false);
    out.set(bytes, at + 4);
    at += 4 + bytes.length;
  };
  put(tagBytes);
  for (const f of fields) put(f);
  return out;
}

/** SHA-256 of the canonical encoding: the hash every digest, id and challenge in Vigil uses. */
export function canonicalHash(tag: string, fields: readonly Uint8Array[]): Uint8Array {
  return sha256(canonical(tag, fields));
}

export function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new VaultError('MALFORMED', 'integer out of u32 range');
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** u64 big-endian; JSON numbers are limited to safe integers, so inputs are at most 2^53 − 1. */
export function u64(n: number | bigint): Uint8Array {
  const v = typeof n === 'bigint' ? n : BigInt(n);
  if ((typeof n === 'number' && !Number.isSafeInteger(n)) || v < 0n || v >= 1n << 64n) {
    throw new VaultError('MALFORMED', 'integer out of u64 range');
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, false);
  return out;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new Error('domain tags are printable ASCII');
    out[i] = c;
  }
  return out;
}

/** A list as one field: u32(count) ‖ for each item u32(len) ‖ item. */
export function list(items: readonly Uint8Array[]): Uint8Array {
  let total = 4;
  for (const i of items) total += 4 + i.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, items.length, false);
  let at = 4;
  for (const i of items) {
    view.setUint32(at, i.length, false);
    out.set(i, at + 4);
    at += 4 + i.length;
  }
  return out;
}
