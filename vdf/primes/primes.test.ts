import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeWithVectors, readVectorText } from '../../test/support/vectors.ts';
import { accelerators } from '../accelerators.ts';
import { isStrongLucasProbablePrime, isStrongProbablePrimeBase2, jacobi } from './bpsw.ts';
import { hashPrime, isProbablePrime, isqrt, modPow, modPowBigint } from './index.ts';
import { opensslOddPow } from './openssl-pow.ts';

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

function sieve(limit: number): Uint8Array {
  const prime = new Uint8Array(limit).fill(1);
  prime[0] = 0;
  prime[1] = 0;
  for (let i = 2; i * i < limit; i++) {
    if (prime[i]) for (let j = i * i; j < limit; j += i) prime[j] = 0;
  }
  return prime;
}

describe('isProbablePrime', () => {
  it('agrees with a sieve on every integer below 20,000', () => {
    const prime = sieve(20_000);
    for (let n = 0; n < 20_000; n++) {
      expect(isProbablePrime(BigInt(n)), `n = ${n}`).toBe(prime[n] === 1);
    }
  });

  it('agrees with a sieve on products and primes reached through the large-number path', () => {
    // Above 2000² the small-number shortcut is off: these run MR + Lucas.
    const prime = sieve(20_000);
    const ps: bigint[] = [];
    for (let n = 19_000; n < 20_000; n++) if (prime[n]) ps.push(BigInt(n));
    for (let i = 0; i + 1 < ps.length; i++) {
      expect(isProbablePrime(ps[i]! * ps[i + 1]!)).toBe(false);
      expect(isProbablePrime(ps[i]! * ps[i]!)).toBe(false);
    }
  });

  it('rejects the strong pseudoprime to base 2 3215031751 (which passes Miller–Rabin base 2)', () => {
    expect(isStrongProbablePrimeBase2(3215031751n)).toBe(true);
    expect(isProbablePrime(3215031751n)).toBe(false);
  });

  it('rejects strong base-2 pseudoprimes above the trial-division range', () => {
    // Each passes strong MR base 2; the Lucas half of BPSW must catch them.
    for (const n of [2152302898747n, 3474749660383n, 341550071728321n, 3825123056546413051n]) {
      expect(isStrongProbablePrimeBase2(n), `${n} is a base-2 spsp`).toBe(true);
      expect(isProbablePrime(n), `${n}`).toBe(false);
    }
  });

  it('rejects Carmichael numbers, small and large', () => {
    const carmichael = [
      561n,
      1105n,
      1729n,
      2465n,
      2821n,
      6601n,
      8911n,
      10585n,
      15841n,
      29341n,
      41041n,
      46657n,
      52633n,
      62745n,
      63973n,
      75361n,
      101101n,
      115921n,
      126217n,
      162401n,
      172081n,
      188461n,
      252601n,
      278545n,
      294409n,
      314821n,
      334153n,
      340561n,
      399001n,
      410041n,
      449065n,
      488881n,
      512461n,
      // Arnault's 397-digit-class construction is too long to inline; these are Chernick forms
      // (6k+1)(12k+1)(18k+1) with all three factors prime.
      (6n * 1n + 1n) * (12n * 1n + 1n) * (18n * 1n + 1n),
      (6n * 6n + 1n) * (12n * 6n + 1n) * (18n * 6n + 1n),
      (6n * 35n + 1n) * (12n * 35n + 1n) * (18n * 35n + 1n),
      (6n * 45n + 1n) * (12n * 45n + 1n) * (18n * 45n + 1n),
    ];
    for (const n of carmichael) expect(isProbablePrime(n), `${n}`).toBe(false);
  });

  it('rejects a large Chernick Carmichael number (each factor a ~100-bit prime)', () => {
    // Search k with 6k+1, 12k+1, 18k+1 all prime from a fixed start: deterministic.
    let k = 1n << 96n;
    for (;;) {
      k++;
      const [a, b, c] = [6n * k + 1n, 12n * k + 1n, 18n * k + 1n];
      if (isProbablePrime(a) && isProbablePrime(b) && isProbablePrime(c)) {
        const n = a * b * c;
        // A Carmichael number: a^(n-1) = 1 for every base coprime to n.
        expect(modPow(2n, n - 1n, n)).toBe(1n);
        expect(isProbablePrime(n)).toBe(false);
        return;
      }
    }
  });

  it('rejects strong Lucas pseudoprimes (Selfridge A), which Miller–Rabin base 2 catches', () => {
    // OEIS A217255: strong Lucas pseudoprimes with Selfridge's method A parameters.
    for (const n of [
      5459n,
      5777n,
      10877n,
      16109n,
      18971n,
      22499n,
      24569n,
      25199n,
      40309n,
      58519n,
    ]) {
      expect(isStrongLucasProbablePrime(n), `${n} is a strong Lucas psp`).toBe(true);
      expect(isStrongProbablePrimeBase2(n)).toBe(false);
      expect(isProbablePrime(n)).toBe(false);
    }
  });

  it('accepts large known primes and rejects their composite neighbours', () => {
    for (const e of [61n, 89n, 107n, 127n, 521n, 607n, 1279n]) {
      const m = (1n << e) - 1n;
      expect(isProbablePrime(m), `2^${e}-1`).toBe(true);
      expect(isProbablePrime(m + 2n), `2^${e}+1`).toBe(false);
    }
    for (const e of [67n, 257n]) expect(isProbablePrime((1n << e) - 1n), `2^${e}-1`).toBe(false);
    // 2^255 - 19 and the secp256k1 field prime.
    expect(isProbablePrime((1n << 255n) - 19n)).toBe(true);
    expect(isProbablePrime(2n ** 256n - 2n ** 32n - 977n)).toBe(true);
    expect(isProbablePrime(((1n << 127n) - 1n) * ((1n << 89n) - 1n))).toBe(false);
  });

  it('rejects perfect squares of primes', () => {
    const p = (1n << 127n) - 1n;
    expect(isProbablePrime(p * p)).toBe(false);
    expect(isqrt(p * p)).toBe(p);
    expect(isqrt(p * p - 1n)).toBe(p - 1n);
  });
});

describe('jacobi and modPow', () => {
  it('jacobi matches Euler’s criterion for a prime', () => {
    const p = 1000003n;
    for (let a = 1n; a < 200n; a++) {
      const e = modPowBigint(a, (p - 1n) / 2n, p);
      expect(jacobi(a, p)).toBe(e === 1n ? 1 : -1);
    }
  });

  it('the OpenSSL path equals BigInt square-and-multiply', () => {
    expect(accelerators().oddModPow).toBe(opensslOddPow); // test/support/node-accelerators.ts
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 600n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 300n) - 1n }),
        fc.bigInt({ min: 1n, max: (1n << 600n) - 1n }),
        (b, e, m0) => {
          const m = m0 | 1n;
          expect(modPow(b, e, m)).toBe(modPowBigint(b, e, m));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('hashPrime', () => {
  it('matches fastcrypto’s hash_prime vector (32 zero bytes, 512 bits, bits {0, 1, 511})', () => {
    const p = hashPrime(new Uint8Array(32), 512, [0, 1, 511]).toString();
    expect(p.startsWith('79042728')).toBe(true);
    expect(p.endsWith('78163')).toBe(true);
    expect(p).toBe(
      '7904272817142338150419757415334055106926417574777773392214522399425467199262039794276651240832053626391864792937889238336287002167559810128294881253078163',
    );
  });

  it('sets the requested bits and returns a prime', () => {
    const p = hashPrime(Uint8Array.of(1, 2, 3), 264, [263]);
    expect(p >> 263n).toBe(1n);
    expect(p & 1n).toBe(1n);
    expect(isProbablePrime(p)).toBe(true);
  });

  it('the sprout is a fixed-width big-endian counter that wraps (0xffff → 0x0000 → 0x0001 …)', () => {
    const expected = (() => {
      for (let i = 0; ; i++) {
        const digest = sha256(Uint8Array.of(i >> 8, i & 0xff));
        const c =
          BigInt(`0x${Buffer.from(digest.subarray(0, 8)).toString('hex')}`) | (1n << 63n) | 1n;
        if (isProbablePrime(c)) return c;
      }
    })();
    expect(hashPrime(Uint8Array.of(0xff, 0xff), 64, [63])).toBe(expected);
  });

  it('equals a plain reference for long seeds, including carries into the cached prefix', () => {
    const reference = (seed: Uint8Array, bits: number, setBits: number[]): bigint => {
      const sprout = Uint8Array.from(seed);
      for (;;) {
        const bytes: number[] = [];
        while (bytes.length < bits / 8) {
          for (let i = sprout.length - 1; i >= 0; i--) {
            sprout[i] = (sprout[i]! + 1) & 0xff;
            if (sprout[i] !== 0) break;
          }
          bytes.push(...sha256(sprout).subarray(0, Math.min(32, bits / 8 - bytes.length)));
        }
        let p = BigInt(`0x${Buffer.from(bytes).toString('hex')}`) | 1n;
        for (const b of setBits) p |= 1n << BigInt(b);
        if (isProbablePrime(p)) return p;
      }
    };
    for (const len of [33, 200, 800]) {
      const seed = new Uint8Array(len).map((_, i) => (i * 37) & 0xff);
      expect(hashPrime(seed, 264, [263])).toBe(reference(seed, 264, [263]));
      // A run of 0xff at the end makes the first increments carry far into the seed.
      seed.fill(0xff, Math.max(len - 100, 0));
      expect(hashPrime(seed, 264, [263])).toBe(reference(seed, 264, [263]));
    }
  });

  it('stops with an error when a short seed’s counter wraps without a prime', () => {
    // Every 1-byte seed cycles through the same 256 counters; none gives a 1024-bit prime.
    expect(() => hashPrime(Uint8Array.of(7), 1024, [0, 1, 2, 1023])).toThrow(RangeError);
    expect(hashPrime(Uint8Array.of(1, 2), 1024, [0, 1, 2, 1023]) >> 1023n).toBe(1n);
  });

  it('rejects bad sizes and an empty seed', () => {
    expect(() => hashPrime(new Uint8Array(1), 0, [])).toThrow(RangeError);
    expect(() => hashPrime(new Uint8Array(1), 12, [])).toThrow(RangeError);
    expect(() => hashPrime(new Uint8Array(0), 256, [])).toThrow(RangeError);
    expect(() => hashPrime(new Uint8Array(1), 256, [256])).toThrow(RangeError);
  });
});

describeWithVectors('chia', 'hashPrime against chiavdf vectors', () => {
  const inter = JSON.parse(readVectorText('chia', 'intermediates.json')).chia_vdf_txt_0;

  it('record 0: B = HashPrime(x ‖ y, 264, {263})', () => {
    const b = hashPrime(fromHex(inter.hashprime_input_hex), 264, [263]);
    expect(`0x${b.toString(16)}`).toBe(inter.B_hex);
  });

  it('record 0: D = −HashPrime(seed, 1024, {0, 1, 2, 1023})', () => {
    const p = hashPrime(fromHex(inter.challenge_seed_hex), 1024, [0, 1, 2, 1023]);
    expect((-p).toString()).toBe(inter.D);
    expect(p % 8n).toBe(7n);
  });
});

describe('hashPrime on long seeds (cached hash prefix)', () => {
  /** The construction written the plain way, hashing the whole counter every time. */
  function reference(seed: Uint8Array, bits: number, setBits: number[]): bigint {
    const sprout = Uint8Array.from(seed);
    const length = bits / 8;
    for (;;) {
      const buf = new Uint8Array(length);
      for (let filled = 0; filled < length; ) {
        for (let i = sprout.length - 1; i >= 0; i--) {
          sprout[i] = (sprout[i]! + 1) & 0xff;
          if (sprout[i] !== 0) break;
        }
        const d = sha256(sprout);
        const take = Math.min(32, length - filled);
        buf.set(d.subarray(0, take), filled);
        filled += take;
      }
      buf[length - 1]! |= 1;
      for (const b of setBits) buf[length - 1 - (b >> 3)]! |= 1 << (b & 7);
      const n = BigInt(`0x${Buffer.from(buf).toString('hex')}`);
      if (isProbablePrime(n)) return n;
    }
  }

  it('matches the plain construction, also when a carry runs into the cached blocks', () => {
    const long = new Uint8Array(800).map((_, i) => (i * 37) & 0xff);
    const carry = new Uint8Array(100).fill(0xff, 60);
    const wrap = new Uint8Array(130).fill(0xff);
    for (const seed of [long, carry, wrap]) {
      expect(hashPrime(seed, 264, [263])).toBe(reference(seed, 264, [263]));
    }
  });
});
