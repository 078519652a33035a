/**
 * The evaluation through the native addon: many checkpoints per call, each costing a conversion
 * out of Montgomery form (≈ 1 µs) instead of a `publicEncrypt` round trip (≈ 11 µs plus BigInt
 * conversions). Squarings are OpenSSL's, as on the TypeScript path, so the speed per squaring is
 * the same and the values are identical.
 */
import { bigintToMinimalBytes } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName } from '../group.ts';
import { ELEMENT_BYTES, N } from './modulus.ts';
import { type NativeAddon, nativeAddon } from './native.ts';

const MODULUS_BYTES = bigintToMinimalBytes(N);

/**
 * Squares `current` (an encoded element) `count` times; returns the encodings after each squaring
 * i with (offset + i) a multiple of `interval`, then the encoding after the last squaring.
 */
export type SquareChain = (
  current: Uint8Array,
  offset: number,
  count: number,
  interval: number,
) => Uint8Array[];

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

/** The solver's choice, like nativeBucketSum: rsa2048 with the addon built and `enabled`. */
export function nativeSquareChain(group: GroupName, enabled: boolean): SquareChain | undefined {
  if (!enabled || group !== 'rsa2048') return undefined;
  const addon = nativeAddon();
  return addon === undefined ? undefined : nativeRsaSquareChain(addon);
}
