/**
 * Loader for the optional native addon (native/, built by `npm ci` through node-gyp): the rsa2048
 * evaluation and prover pass, the class1024 evaluation (vdf/class1024/native.ts) and HashPrime
 * (vdf/primes/native-hash-prime.ts). It runs the bucket pass in Montgomery arithmetic: an AVX-512
 * IFMA multiplier where the CPU has one, else OpenSSL's BN code, reached through the BN_* symbols
 * the Node binary exports (HashPrime uses them too, and OpenSSL's SHA-256). When the addon
 * is missing, fails to load, or VIGIL_VDF_NATIVE=0, everything uses the TypeScript path, which
 * stays the reference. VIGIL_VDF_ARITH=openssl|ifma52 forces one arithmetic.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VdfError, type VdfErrorCode } from '../errors.ts';

/** An opaque handle to one pass's native state (buckets, digit walk). */
export type NativePassHandle = { readonly __nativePass: unique symbol };
/** An opaque handle to one sweep of class1024 bucket passes. */
export type NativeClassProverHandle = { readonly __nativeClassProver: unique symbol };

/** `auto` takes IFMA when this CPU has it; `ifma52` fails where it does not. */
export type NativeArithmetic = 'auto' | 'openssl' | 'ifma52';
export const NATIVE_ARITHMETICS: readonly NativeArithmetic[] = ['auto', 'openssl', 'ifma52'];

export interface NativeAddon {
  /** All integers big-endian; modulus odd (its byte length is the element size), challenge odd. */
  createPass(
    modulus: Uint8Array,
    challenge: Uint8Array,
    rem: Uint8Array,
    stepDown: Uint8Array,
    k: number,
    arithmetic?: NativeArithmetic,
  ): NativePassHandle;
  /** A whole number of canonical elements (1 ≤ v ≤ (N−1)/2), each the modulus's byte length. */
  feedPass(pass: NativePassHandle, elements: Uint8Array): void;
  /** S_j as a residue mod N (not canonicalised), or null when every digit was zero. */
  finishPass(pass: NativePassHandle): Uint8Array | null;
  /**
   * x (0 < x < N, the modulus's byte length) squared `count` times (≤ 2^24); returns the canonical
   * elements after each squaring i with (offset + i) % interval === 0, then after the last one.
   */
  squareChain(
    modulus: Uint8Array,
    x: Uint8Array,
    offset: number,
    count: number,
    interval: number,
  ): Uint8Array;
  /**
   * The class1024 evaluation (native/class_form.h): D = −|discriminant|, NUDUPL's bound L, and
   * `form` one 129-byte record of a reduced form; returns records as squareChain does.
   */
  classSquareChain(
    discriminant: Uint8Array,
    bound: Uint8Array,
    form: Uint8Array,
    offset: number,
    count: number,
    interval: number,
  ): Uint8Array;
  /** The reduced f·g (NUCOMP) of two 129-byte records, as a record. */
  classMul(discriminant: Uint8Array, bound: Uint8Array, f: Uint8Array, g: Uint8Array): Uint8Array;
  /** The reduced ∏ bases[i]^exponents[i]: 1..8 records back to back, big-endian exponents. */
  classMultiExp(
    discriminant: Uint8Array,
    bound: Uint8Array,
    bases: Uint8Array,
    exponents: Uint8Array[],
  ): Uint8Array;
  /**
   * One sweep's class1024 bucket passes (native/class_prover.h): pass i walks digits from
   * rems[i] by stepDowns[i] (both below the challenge) over its first counts[i] checkpoints.
   */
  classProver(
    discriminant: Uint8Array,
    bound: Uint8Array,
    challenge: Uint8Array,
    k: number,
    rems: Uint8Array[],
    stepDowns: Uint8Array[],
    counts: number[],
  ): NativeClassProverHandle;
  /** The next checkpoints, as 100-byte BQFC encodings (strictly decoded: VDF_MALFORMED). */
  classProverFeed(prover: NativeClassProverHandle, checkpoints: Uint8Array): void;
  /** Each pass's S as a 129-byte record, or null for the identity. */
  classProverFinish(prover: NativeClassProverHandle): (Uint8Array | null)[];
  /** The 100-byte BQFC encodings of reduced-form records (at most 65536). */
  classEncode(discriminant: Uint8Array, records: Uint8Array): Uint8Array;
  /** The records of the forms 100-byte BQFC encodings hold; strict as decodeForm (VDF_MALFORMED). */
  classDecode(discriminant: Uint8Array, encodings: Uint8Array): Uint8Array;
  /**
   * HashPrime (native/hash_prime.h): bits/8 big-endian bytes, or null where a seed of at most 6
   * bytes wraps its counter without a prime. seed non-empty, bits a multiple of 8 in 8..4096,
   * setBits below bits.
   */
  hashPrime(seed: Uint8Array, bits: number, setBits: readonly number[]): Uint8Array | null;
  /** Whether odd n > 1 passes HashPrime's BPSW core (no trial division); for tests. */
  bpswProbablePrime(n: Uint8Array): boolean;
  /** The arithmetic a pass runs on. */
  passArithmetic(pass: NativePassHandle): 'openssl' | 'ifma52';
  /** Whether this build and CPU can run the AVX-512 IFMA multiplier. */
  ifma52Supported(): boolean;
}

export type NativeStatus =
  | { available: true; path: string; ifma52: boolean }
  | { available: false; reason: string };

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
    for (const f of [
      'createPass',
      'feedPass',
      'finishPass',
      'squareChain',
      'classSquareChain',
      'classMul',
      'classMultiExp',
      'classProver',
      'classProverFeed',
      'classProverFinish',
      'classEncode',
      'classDecode',
      'hashPrime',
      'bpswProbablePrime',
      'passArithmetic',
      'ifma52Supported',
    ] as const)
      if (typeof addon[f] !== 'function') throw new Error(`addon lacks ${f}; run npm ci`);
    return {
      addon,
      status: { available: true, path: NATIVE_ADDON_PATH, ifma52: addon.ifma52Supported() },
    };
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

/** The arithmetic the solver asks for: VIGIL_VDF_ARITH when set (validated), else auto. */
export function nativeArithmetic(): NativeArithmetic {
  const v = process.env.VIGIL_VDF_ARITH;
  if (v === undefined || v === '') return 'auto';
  if ((NATIVE_ARITHMETICS as readonly string[]).includes(v)) return v as NativeArithmetic;
  throw new VdfError(
    'VDF_CONFIG',
    `VIGIL_VDF_ARITH must be one of ${NATIVE_ARITHMETICS.join(', ')}, not ${v}`,
  );
}

/**
 * An exception the addon threw, as a VdfError: VDF_MALFORMED where the addon marked the input
 * malformed (a bad element), else `code`.
 */
export function addonError(err: unknown, context: string, code: VdfErrorCode): VdfError {
  if (err instanceof VdfError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const malformed = (err as { code?: unknown } | null)?.code === 'VDF_MALFORMED';
  return new VdfError(malformed ? 'VDF_MALFORMED' : code, `${context}: ${message}`);
}
