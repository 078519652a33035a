/**
 * The evaluation through the native addon: many checkpoints per call, each costing a conversion
 * out of Montgomery form (≈ 1 µs) instead of a `publicEncrypt` round trip (≈ 11 µs plus BigInt
 * conversions). Squarings are OpenSSL's, as on the TypeScript path, so the speed per squaring is
 * the same and the values are identical.
 */
import { bigintToMinimalBytes } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { SquareChain } from '../group.ts';
import { ELEMENT_BYTES, N } from './modulus.ts';
import type { NativeAddon } from './native.ts';

const MODULUS_BYTES = bigintToMinimalBytes(N);

export function nativeRsaSquareChain(addon: NativeAddon): SquareChain {
  return (current, offset, count, interval) => {
    let out: Uint8Array;
    try {
      out = addon.squareChain(MODULUS_BYTES, current, offset, count, interval);
    } catch (err) {
      throw new VdfError(
        'VDF_CHECKPOINT',
        `native evaluation: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const records: Uint8Array[] = [];
    for (let at = 0; at < out.length; at += ELEMENT_BYTES)
      records.push(out.subarray(at, at + ELEMENT_BYTES));
    return records;
  };
}
