/**
 * class1024 in the native addon (native/class_form.cc): the evaluation (NUDUPL squarings on
 * fixed-width limbs, many per call, with the reduced forms at checkpoints), and NUCOMP and
 * multi-exponentiation for the prover and the verifier. Same group, same reduced forms, so the
 * same encodings as the TypeScript backend (fast.ts), which stays the reference and the fallback.
 */
import { bigintToBytes, bigintToMinimalBytes, bytesEqual, bytesToBigint } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { SquareChain } from '../group.ts';
import { addonError, type NativeAddon, nativeAddon } from '../rsa2048/native.ts';
import { FORM_BYTES } from './bqfc.ts';
import { opsFor, partialBound } from './fast.ts';
import type { Form } from './form.ts';
import type { FormOps } from './pow.ts';

const HALF = 64;
/** a (64 bytes) ‖ sign of b (0 or 1) ‖ |b| (64 bytes), big-endian: native/class_form.h. */
export const FORM_RECORD_BYTES = 2 * HALF + 1;

/**
 * Records of forms already seen: a form the addon returned, or one just converted, crosses back
 * without a conversion (the prover multiplies each product again at once). Forms are immutable.
 */
const records = new WeakMap<Form, Uint8Array>();

export function formToRecord(f: Form): Uint8Array {
  const known = records.get(f);
  if (known !== undefined) return known;
  const out = new Uint8Array(FORM_RECORD_BYTES);
  out.set(bigintToBytes(f.a, HALF), 0);
  out[HALF] = f.b < 0n ? 1 : 0;
  out.set(bigintToBytes(f.b < 0n ? -f.b : f.b, HALF), HALF + 1);
  records.set(f, out);
  return out;
}

/** The form a record holds; c = (b² − D)/4a with one division (a product checks it). */
export function formFromRecord(record: Uint8Array, D: bigint): Form {
  const a = bytesToBigint(record.subarray(0, HALF));
  const magnitude = bytesToBigint(record.subarray(HALF + 1, FORM_RECORD_BYTES));
  const b = record[HALF] === 1 ? -magnitude : magnitude;
  const num = b * b - D;
  const den = 4n * a;
  const c = a > 0n ? num / den : 0n;
  if (a <= 0n || c * den !== num)
    throw new VdfError('VDF_MALFORMED', 'class1024 record: not a form of this discriminant');
  const f = { a, b, c };
  records.set(f, record.slice());
  return f;
}

/** Squares of reduced forms in the addon: the reduced forms the chain records, as forms. */
export type FormChain = (f: Form, offset: number, count: number, interval: number) => Form[];

export function nativeFormChain(addon: NativeAddon, D: bigint): FormChain {
  const discriminant = bigintToMinimalBytes(-D);
  const bound = bigintToMinimalBytes(partialBound(D));
  return (f, offset, count, interval) => {
    let out: Uint8Array;
    try {
      out = addon.classSquareChain(discriminant, bound, formToRecord(f), offset, count, interval);
    } catch (err) {
      throw new VdfError(
        'VDF_CHECKPOINT',
        `native class1024 evaluation: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const forms: Form[] = [];
    for (let at = 0; at < out.length; at += FORM_RECORD_BYTES)
      forms.push(formFromRecord(out.subarray(at, at + FORM_RECORD_BYTES), D));
    return forms;
  };
}

/**
 * The solver's chain on BQFC encodings, with no BigInt on the way: the addon squares a record,
 * encodes the records it returns, and decodes a start element strictly. The element a call
 * returns last is the one the next call starts from, so its record is kept and the decoding
 * skipped.
 */
export function nativeClass1024SquareChain(addon: NativeAddon, D: bigint): SquareChain {
  const discriminant = bigintToMinimalBytes(-D);
  const bound = bigintToMinimalBytes(partialBound(D));
  let last: { encoded: Uint8Array; record: Uint8Array } | undefined;
  return (current, offset, count, interval) => {
    let records: Uint8Array;
    let encoded: Uint8Array;
    try {
      const start =
        last !== undefined && bytesEqual(last.encoded, current)
          ? last.record
          : addon.classDecode(discriminant, current);
      records = addon.classSquareChain(discriminant, bound, start, offset, count, interval);
      encoded = addon.classEncode(discriminant, records);
    } catch (err) {
      throw addonError(err, 'native class1024 evaluation', 'VDF_CHECKPOINT');
    }
    const out: Uint8Array[] = [];
    for (let at = 0; at < encoded.length; at += FORM_BYTES)
      out.push(new Uint8Array(encoded.subarray(at, at + FORM_BYTES)));
    last = {
      encoded: out[out.length - 1]!,
      record: new Uint8Array(records.subarray(records.length - FORM_RECORD_BYTES)),
    };
    return out;
  };
}

/**
 * The group operations in the addon, one call each (NUCOMP; NUDUPL then a full reduction), and a
 * whole multi-exponentiation in one call (the verifier's π^B · x^r).
 */
export function nativeFormOps(addon: NativeAddon, D: bigint): FormOps {
  const discriminant = bigintToMinimalBytes(-D);
  const bound = bigintToMinimalBytes(partialBound(D));
  const call = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw new VdfError(
        'VDF_MALFORMED',
        `native class1024 ${what}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  return {
    square: (f) =>
      formFromRecord(
        call('square', () =>
          addon.classSquareChain(discriminant, bound, formToRecord(f), 0, 1, 2 ** 53),
        ),
        D,
      ),
    mul: (f, g) =>
      formFromRecord(
        call('mul', () => addon.classMul(discriminant, bound, formToRecord(f), formToRecord(g))),
        D,
      ),
    multiExp(bases, exps) {
      if (exps.every((e) => e === 0n)) return undefined;
      const records = new Uint8Array(bases.length * FORM_RECORD_BYTES);
      bases.forEach((f, i) => {
        records.set(formToRecord(f), i * FORM_RECORD_BYTES);
      });
      const exponents = exps.map((e) => {
        if (e < 0n) throw new RangeError('multiExp: negative exponent');
        return bigintToMinimalBytes(e);
      });
      return formFromRecord(
        call('multiExp', () => addon.classMultiExp(discriminant, bound, records, exponents)),
        D,
      );
    },
  };
}

const cache = new Map<bigint, FormOps>();

/** The operations group code uses for D: the addon's when it is built, else TypeScript's. */
export function class1024Ops(D: bigint): FormOps {
  const addon = nativeAddon();
  if (addon === undefined) return opsFor(D);
  let ops = cache.get(D);
  if (ops === undefined) {
    ops = nativeFormOps(addon, D);
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(D, ops);
  }
  return ops;
}
