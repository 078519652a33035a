import { VdfError } from '../errors.ts';
import { isqrt } from '../primes/index.ts';
import { type Form, formFromAB, reduce } from './form.ts';
import { gcd, modInverse, partialXgcd } from './xgcd.ts';

/** chiavdf BQFC_FORM_SIZE for 1024-bit discriminants: (1024 + 31)/32·3 + 4. */
export const FORM_BYTES = 100;
const D_BITS = 1024;
const A_BYTES = D_BITS / 16; // 64: a' and g share these (a' gets 64 − g_size)
const T_BYTES = D_BITS / 32; // 32: t' and g share these

const FLAG_B_NEGATIVE = 0x01;
const FLAG_T_NEGATIVE = 0x02;
const FLAG_IDENTITY = 0x04;
const FLAG_GENERATOR = 0x08;

function byteLength(x: bigint): number {
  return x === 0n ? 1 : Math.ceil(x.toString(2).length / 8);
}

function writeLE(out: Uint8Array, offset: number, size: number, x: bigint): void {
  let v = x;
  for (let i = 0; i < size; i++) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new VdfError('VDF_MALFORMED', 'bqfc: field does not fit');
}

function readLE(bytes: Uint8Array, offset: number, size: number): bigint {
  let hex = '';
  for (let i = offset + size - 1; i >= offset; i--) hex += bytes[i]!.toString(16).padStart(2, '0');
  return hex === '' ? 0n : BigInt(`0x${hex}`);
}

/** 100-byte BQFC encoding of a reduced form (chiavdf bqfc_serialize). */
export function encodeForm(f: Form): Uint8Array {
  const out = new Uint8Array(FORM_BYTES);
  const { a, b } = f;
  if (b === 1n && a <= 2n) {
    out[0] = a === 2n ? FLAG_GENERATOR : FLAG_IDENTITY;
    return out;
  }
  let aPrime = a;
  let t = 0n;
  let g = 0n;
  let b0 = 0n;
  const bNegative = b < 0n;
  if (a !== b) {
    const absB = bNegative ? -b : b;
    // t is the negated r1 cofactor of Euclid on (a, |b|) stopped at √a.
    t = -partialXgcd(a, absB, isqrt(a)).co1;
    g = gcd(a, t);
    if (g !== 1n) {
      aPrime = a / g;
      t /= g;
      b0 = absB / aPrime;
    }
  }
  const gSize = byteLength(g) - 1;
  if (gSize >= T_BYTES) throw new VdfError('VDF_MALFORMED', 'bqfc: g too large');
  out[0] = (bNegative ? FLAG_B_NEGATIVE : 0) | (t < 0n ? FLAG_T_NEGATIVE : 0);
  out[1] = gSize;
  let offset = 2;
  writeLE(out, offset, A_BYTES - gSize, aPrime);
  offset += A_BYTES - gSize;
  writeLE(out, offset, T_BYTES - gSize, t < 0n ? -t : t);
  offset += T_BYTES - gSize;
  writeLE(out, offset, gSize + 1, g);
  offset += gSize + 1;
  writeLE(out, offset, gSize + 1, b0);
  return out;
}

function malformed(why: string): never {
  throw new VdfError('VDF_MALFORMED', `class1024 element: ${why}`);
}

/** bqfc_decompr (exported for tests only; not in index.ts): (a, b) from (a', t', g, b0) and D, before any canonical check. */
export function decompress(
  D: bigint,
  aPrime: bigint,
  t: bigint,
  g: bigint,
  b0: bigint,
  bNegative: boolean,
): [bigint, bigint] {
  if (t === 0n) return [aPrime, aPrime];
  if (aPrime === 0n) malformed("a' is zero");
  const tInv = modInverse(t < 0n ? t + aPrime : t, aPrime);
  if (tInv === undefined) malformed('t is not invertible');
  let d = D % aPrime;
  if (d < 0n) d += aPrime;
  const square = (((t * t) % aPrime) * d) % aPrime;
  const root = isqrt(square);
  if (root * root !== square) malformed('no square root of t²·D');
  let b = (root * tInv) % aPrime;
  const a = g > 1n ? aPrime * g : aPrime;
  if (b0 > 0n) b += aPrime * b0;
  if (bNegative) b = -b;
  return [a, b];
}

/**
 * Strict BQFC decoding: exact length, decode, require a > 0, 4a | b² − D and |b| ≤ a, reduce,
 * re-encode and byte-compare. This rejects every non-canonical encoding, including chiavdf's
 * lenient-mode b0 malleability (b0 + 4k) and non-zero padding. Throws VDF_MALFORMED.
 */
export function decodeForm(D: bigint, bytes: Uint8Array): Form {
  if (bytes.length !== FORM_BYTES) malformed(`expected ${FORM_BYTES} bytes, got ${bytes.length}`);
  const flags = bytes[0]!;
  let form: Form;
  if (flags & (FLAG_IDENTITY | FLAG_GENERATOR)) {
    form = formFromAB(flags & FLAG_GENERATOR ? 2n : 1n, 1n, D);
  } else {
    const gSize = bytes[1]!;
    if (gSize >= T_BYTES) malformed('g_size out of range');
    let offset = 2;
    const aPrime = readLE(bytes, offset, A_BYTES - gSize);
    offset += A_BYTES - gSize;
    let t = readLE(bytes, offset, T_BYTES - gSize);
    offset += T_BYTES - gSize;
    const g = readLE(bytes, offset, gSize + 1);
    offset += gSize + 1;
    const b0 = readLE(bytes, offset, gSize + 1);
    if (flags & FLAG_T_NEGATIVE) t = -t;
    const [a, b] = decompress(D, aPrime, t, g, b0, (flags & FLAG_B_NEGATIVE) !== 0);
    if (a <= 0n) malformed('a is not positive');
    if ((b < 0n ? -b : b) > a) malformed('|b| > a');
    form = formFromAB(a, b, D);
  }
  const reduced = reduce(form);
  const canonical = encodeForm(reduced);
  for (let i = 0; i < FORM_BYTES; i++) {
    if (canonical[i] !== bytes[i]) malformed('non-canonical encoding');
  }
  return reduced;
}
