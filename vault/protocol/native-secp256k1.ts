import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The system's libsecp256k1 through the `vigil_secp256k1` addon (native/secp256k1.cc), built by
 * `npm ci` where the library is installed (Debian: `apt-get install libsecp256k1-dev`): k·P,
 * A + B and P + t·G on public points about five times faster than tiny-secp256k1's WebAssembly
 * build. A deposit's share proof spends most of its check there. Absent (or disabled with
 * VIGIL_SECP256K1_NATIVE=0), node-primitives.ts keeps the WebAssembly build.
 */
export interface NativeSecp256k1 {
  /** k·P for k in [1, n); throws on a point off the curve or k out of range. */
  pointMultiply(p: Uint8Array, k: Uint8Array): Uint8Array;
  /** A + B; null at infinity; throws on a point off the curve. */
  pointAdd(a: Uint8Array, b: Uint8Array): Uint8Array | null;
  /** P + t·G for t in [0, n); null at infinity; throws on a point off the curve or t ≥ n. */
  pointAddScalar(p: Uint8Array, t: Uint8Array): Uint8Array | null;
}

const ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/vigil_secp256k1.node', import.meta.url),
);

/** The addon, or null with why not. */
export function loadNativeSecp256k1(): { addon: NativeSecp256k1 | null; reason: string } {
  if (process.env.VIGIL_SECP256K1_NATIVE === '0')
    return { addon: null, reason: 'disabled by VIGIL_SECP256K1_NATIVE=0' };
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeSecp256k1;
    for (const f of ['pointMultiply', 'pointAdd', 'pointAddScalar'] as const)
      if (typeof addon[f] !== 'function') throw new Error(`addon lacks ${f}; run npm ci`);
    return { addon, reason: ADDON_PATH };
  } catch (e) {
    return { addon: null, reason: e instanceof Error ? e.message : String(e) };
  }
}
