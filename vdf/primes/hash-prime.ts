import { sha256 } from '@noble/hashes/sha2.js';
import { accelerators } from '../accelerators.ts';
import { isProbablePrime, passesBpswAfterTrialDivision, smallFactorOfBytes } from './bpsw.ts';

/** Largest HashPrime output we accept to build (bits); chiavdf's discriminants stop at 1024. */
export const HASH_PRIME_MAX_BITS = 4096;

/**
 * Adds one to a fixed-width big-endian counter in place (wrapping at the top); returns the lowest
 * index it changed.
 */
function increment(counter: Uint8Array): number {
  for (let i = counter.length - 1; i >= 0; i--) {
    counter[i] = (counter[i]! + 1) & 0xff;
    if (counter[i] !== 0) return i;
  }
  return 0;
}

/**
 * SHA-256 of a counter whose leading 64-byte blocks rarely change: the hash state after those
 * blocks is kept and cloned, so a long seed (rsa2048's is ~800 bytes) costs one or two blocks per
 * candidate instead of thirteen. The state is rebuilt whenever a carry reaches the cached blocks.
 */
class CounterHasher {
  readonly #counter: Uint8Array;
  readonly #prefixBytes: number;
  #prefix: ReturnType<typeof sha256.create>;

  constructor(counter: Uint8Array) {
    this.#counter = counter;
    this.#prefixBytes = Math.max(0, Math.floor((counter.length - 16) / 64) * 64);
    this.#prefix = this.#absorbPrefix();
  }

  #absorbPrefix() {
    return sha256.create().update(this.#counter.subarray(0, this.#prefixBytes));
  }

  /** Increments the counter and returns its SHA-256. */
  next(): Uint8Array {
    if (increment(this.#counter) < this.#prefixBytes) this.#prefix = this.#absorbPrefix();
    return this.#prefix.clone().update(this.#counter.subarray(this.#prefixBytes)).digest();
  }
}

/**
 * chiavdf's HashPrime (src/proof_common.h): a counter "sprout" starts as a copy of the seed and is
 * incremented (fixed-width big-endian) before each SHA-256; bits/8 digest bytes are read
 * big-endian, the listed bits and bit 0 are set, and the first BPSW probable prime is returned.
 * An installed accelerator (Node's: the native addon) searches in its place; this code is the
 * portable path and the reference it is tested against.
 */
export function hashPrime(seed: Uint8Array, bits: number, setBits: readonly number[]): bigint {
  if (!Number.isInteger(bits) || bits <= 0 || bits % 8 !== 0 || bits > HASH_PRIME_MAX_BITS) {
    throw new RangeError('hashPrime: bits must be a positive multiple of 8, at most 4096');
  }
  if (seed.length === 0) throw new RangeError('hashPrime: empty seed');
  for (const b of setBits) {
    if (!Number.isInteger(b) || b < 0 || b >= bits)
      throw new RangeError('hashPrime: bit out of range');
  }
  const accelerated = accelerators().hashPrime?.(seed, bits, setBits);
  const prime = accelerated === undefined ? search(seed, bits, setBits) : accelerated;
  if (prime === null) {
    throw new RangeError('hashPrime: the seed counter wrapped without a prime; seed too short');
  }
  return prime;
}

/** The search itself, on checked arguments; null when a short seed's counter wraps. */
function search(seed: Uint8Array, bits: number, setBits: readonly number[]): bigint | null {
  const sprout = new CounterHasher(Uint8Array.from(seed));
  const length = bits / 8;
  const buf = new Uint8Array(length);
  // A short seed's counter cycles (a 1-byte seed through 256 values): once it has come round,
  // the same candidates repeat and, with no prime among them, the search would never end.
  const cycle = seed.length <= 6 ? 256 ** seed.length : Number.POSITIVE_INFINITY;
  let hashes = 0;
  for (;;) {
    for (let filled = 0; filled < length; ) {
      if (++hashes > cycle) return null;
      const digest = sprout.next();
      const take = Math.min(32, length - filled);
      buf.set(digest.subarray(0, take), filled);
      filled += take;
    }
    buf[length - 1]! |= 1;
    for (const b of setBits) buf[length - 1 - (b >> 3)]! |= 1 << (b & 7);
    // Sieve on the bytes first: about six in seven candidates never become a BigInt.
    if (bits > 32 && smallFactorOfBytes(buf) !== 0) continue;
    let hex = '';
    for (const byte of buf) hex += byte.toString(16).padStart(2, '0');
    const candidate = BigInt(`0x${hex}`);
    if (bits > 32 ? passesBpswAfterTrialDivision(candidate) : isProbablePrime(candidate)) {
      return candidate;
    }
  }
}
