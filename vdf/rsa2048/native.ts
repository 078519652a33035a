/**
 * Loader for the optional native prover pass (native/, built by `npm ci` through node-gyp). It
 * runs the bucket pass in OpenSSL's Montgomery arithmetic, reached through the BN_* symbols the
 * Node binary exports. When the addon is missing, fails to load, or VIGIL_VDF_NATIVE=0, everything
 * uses the TypeScript path, which stays the reference.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** An opaque handle to one pass's native state (buckets, digit walk). */
export type NativePassHandle = { readonly __nativePass: unique symbol };

export interface NativeAddon {
  /** All integers big-endian; modulus odd (its byte length is the element size), challenge odd. */
  createPass(
    modulus: Uint8Array,
    challenge: Uint8Array,
    rem: Uint8Array,
    stepDown: Uint8Array,
    k: number,
  ): NativePassHandle;
  /** A whole number of canonical elements (1 ≤ v ≤ (N−1)/2), each the modulus's byte length. */
  feedPass(pass: NativePassHandle, elements: Uint8Array): void;
  /** S_j as a residue mod N (not canonicalised), or null when every digit was zero. */
  finishPass(pass: NativePassHandle): Uint8Array | null;
}

export type NativeStatus = { available: true; path: string } | { available: false; reason: string };

export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/vigil_vdf.node', import.meta.url),
);

let loaded: { addon: NativeAddon | undefined; status: NativeStatus } | undefined;

function load(): { addon: NativeAddon | undefined; status: NativeStatus } {
  if (process.env.VIGIL_VDF_NATIVE === '0')
    return {
      addon: undefined,
      status: { available: false, reason: 'disabled by VIGIL_VDF_NATIVE=0' },
    };
  try {
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
    for (const f of ['createPass', 'feedPass', 'finishPass'] as const)
      if (typeof addon[f] !== 'function') throw new Error(`addon lacks ${f}`);
    return { addon, status: { available: true, path: NATIVE_ADDON_PATH } };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      addon: undefined,
      status: { available: false, reason: `native addon not loaded (${why}); run npm ci` },
    };
  }
}

/** The addon, or undefined (then use the TypeScript path). Loaded once per thread. */
export function nativeAddon(): NativeAddon | undefined {
  loaded ??= load();
  return loaded.addon;
}

export function nativeStatus(): NativeStatus {
  loaded ??= load();
  return loaded.status;
}
