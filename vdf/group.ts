/** The two groups Vigil's VDF runs in (DESIGN.md §4). */
export type GroupName = 'rsa2048' | 'class1024';

/**
 * One group instance for one challenge: rsa2048 is the same group for every seed; class1024 has a
 * discriminant derived from the seed. `E` is the in-memory element; all encodings are canonical.
 */
export interface VdfGroup<E> {
  readonly name: GroupName;
  /** Exact size of an encoded element in bytes (256 for rsa2048, 100 for class1024). */
  readonly elementBytes: number;
  /** The challenge input x derived from the seed. */
  readonly input: E;
  encode(e: E): Uint8Array;
  /** Strict: decode, canonicalise, re-encode, byte-compare; throws VdfError('VDF_MALFORMED'). */
  decode(bytes: Uint8Array): E;
  equal(a: E, b: E): boolean;
  identity(): E;
  mul(a: E, b: E): E;
  square(a: E): E;
  /** a^(2^k): the hot loop; a backend may do this much faster than k calls to square. */
  squareTimes(a: E, k: number): E;
  pow(a: E, exponent: bigint): E;
  /** The Fiat–Shamir prime ℓ for (T, x, y) in this group's rule (docs/vdf.md). */
  challengePrime(iterations: number, x: E, y: E): bigint;
}

/**
 * A native evaluation loop: squares `current` (an encoded element) `count` times and returns the
 * encodings after each squaring i with (offset + i) a multiple of `interval`, then the encoding
 * after the last squaring.
 */
export type SquareChain = (
  current: Uint8Array,
  offset: number,
  count: number,
  interval: number,
) => Uint8Array[];
