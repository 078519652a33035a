/**
 * The addon's HashPrime (native/hash_prime.cc) against the TypeScript search it replaces: the
 * same prime on random seeds of the shapes the VDF uses and of other sizes, the same refusal of a
 * short seed whose counter wraps, the same BPSW verdicts on the pseudoprimes random seeds never
 * reach, and proof that hashPrime goes through it where the addon is built.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accelerators, useAccelerators } from '../accelerators.ts';
import { bigintToMinimalBytes } from '../bytes.ts';
import { discriminantFromSeed } from '../class1024/discriminant.ts';
import { generatorForm } from '../class1024/form.ts';
import { getB } from '../class1024/verify.ts';
import { nodeAccelerators } from '../node-accelerators.ts';
import { nativeAddon, nativeStatus } from '../rsa2048/native.ts';
import { passesBpswAfterTrialDivision } from './bpsw.ts';
import { hashPrime } from './hash-prime.ts';
import { nativeHashPrime } from './native-hash-prime.ts';

const status = nativeStatus();
if (!status.available) console.warn(`[native hashPrime] skipping: ${status.reason}`);
const describeNative = status.available ? describe : describe.skip;

const { hashPrime: _, ...withoutNativeHashPrime } = nodeAccelerators;

/** hashPrime's result or its error message, on the TypeScript search (Node's other accelerators). */
function typeScriptOutcome(seed: Uint8Array, bits: number, setBits: number[]): bigint | string {
  useAccelerators(withoutNativeHashPrime);
  try {
    return outcome(seed, bits, setBits);
  } finally {
    useAccelerators(nodeAccelerators);
  }
}

function outcome(seed: Uint8Array, bits: number, setBits: number[]): bigint | string {
  try {
    return hashPrime(seed, bits, setBits);
  } catch (err) {
    return err instanceof RangeError ? `RangeError: ${err.message}` : String(err);
  }
}

/** Asserts the native search ran for this call and agrees with the TypeScript one. */
function expectSameAsTypeScript(seed: Uint8Array, bits: number, setBits: number[]): void {
  const spy = vi.spyOn(nativeAddon()!, 'hashPrime');
  const native = outcome(seed, bits, setBits);
  expect(spy).toHaveBeenCalledTimes(1);
  spy.mockRestore();
  expect(native).toEqual(typeScriptOutcome(seed, bits, setBits));
}

afterEach(() => {
  vi.restoreAllMocks();
  useAccelerators(nodeAccelerators);
});

describeNative('native hashPrime', () => {
  it('is the accelerator Node installs, and hashPrime, GetB and the discriminant go through it', () => {
    expect(accelerators().hashPrime).toBe(nativeHashPrime); // test/support/node-accelerators.ts
    const spy = vi.spyOn(nativeAddon()!, 'hashPrime');
    const seed = Uint8Array.of(9, 8, 7, 6, 5, 4, 3);
    const p = hashPrime(seed, 264, [263]);
    expect(spy).toHaveBeenLastCalledWith(seed, 264, [263]);
    const D = discriminantFromSeed(Uint8Array.of(0x68, 0x70, 0x01));
    expect(spy).toHaveBeenLastCalledWith(Uint8Array.of(0x68, 0x70, 0x01), 1024, [0, 1, 2, 1023]);
    getB(generatorForm(D), generatorForm(D));
    expect(spy).toHaveBeenCalledTimes(3);
    // Without the accelerator the TypeScript search runs, and finds the same prime.
    useAccelerators(withoutNativeHashPrime);
    expect(hashPrime(seed, 264, [263])).toBe(p);
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('equals the TypeScript search on GetB-shaped inputs (200-byte seeds, 264 bits, bit 263)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 200, maxLength: 200 }), (seed) => {
        expectSameAsTypeScript(seed, 264, [263]);
      }),
      { numRuns: 60 },
    );
  });

  it('equals the TypeScript search on discriminant-shaped inputs (1024 bits, bits 0, 1, 2, 1023)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (seed) => {
        expectSameAsTypeScript(seed, 1024, [0, 1, 2, 1023]);
      }),
      { numRuns: 6 },
    );
  });

  it('equals the TypeScript search on other sizes, set bits and seed lengths', () => {
    const shape = fc
      .record({
        bytes: fc.integer({ min: 1, max: 64 }),
        seed: fc.uint8Array({ minLength: 1, maxLength: 300 }),
        bits: fc.array(fc.nat(), { maxLength: 4 }),
      })
      .map(({ bytes, seed, bits }) => ({
        seed,
        bits: 8 * bytes,
        setBits: bits.map((b) => b % (8 * bytes)),
      }));
    fc.assert(
      fc.property(shape, ({ seed, bits, setBits }) => {
        expectSameAsTypeScript(seed, bits, setBits);
      }),
      { numRuns: 150 },
    );
  });

  it('equals it on long seeds whose counter carries into the cached hash blocks', () => {
    for (const len of [17, 80, 81, 130, 800]) {
      const seed = new Uint8Array(len).map((_, i) => (i * 37) & 0xff);
      seed.fill(0xff, Math.max(len - 70, 0));
      expectSameAsTypeScript(seed, 264, [263]);
      expectSameAsTypeScript(seed, 512, [0, 1, 511]);
    }
  });

  it('refuses a short seed whose counter wraps without a prime, as the TypeScript search does', () => {
    // Every 1-byte seed cycles through the same 256 counters; none gives a 1024-bit prime.
    expectSameAsTypeScript(Uint8Array.of(7), 1024, [0, 1, 2, 1023]);
    expect(outcome(Uint8Array.of(7), 1024, [0, 1, 2, 1023])).toMatch(/^RangeError: .*wrapped/);
    for (let b = 0; b < 256; b += 51) {
      expectSameAsTypeScript(Uint8Array.of(b), 8, []);
      expectSameAsTypeScript(Uint8Array.of(b), 24, [23]);
      expectSameAsTypeScript(Uint8Array.of(b, 0xff), 40, [39]);
    }
  });

  it('gives the TypeScript BPSW verdict on every odd n below 20,000 and on pseudoprimes', () => {
    const addon = nativeAddon()!;
    const same = (n: bigint): void => {
      expect(addon.bpswProbablePrime(bigintToMinimalBytes(n)), `n = ${n}`).toBe(
        passesBpswAfterTrialDivision(n),
      );
    };
    for (let n = 3n; n < 20_000n; n += 2n) same(n);
    const chernick = (k: bigint) => (6n * k + 1n) * (12n * k + 1n) * (18n * k + 1n);
    for (const n of [
      // strong pseudoprimes to base 2, which the Lucas half must refuse
      3215031751n,
      2152302898747n,
      3474749660383n,
      341550071728321n,
      3825123056546413051n,
      // strong Lucas pseudoprimes (Selfridge A), which Miller–Rabin base 2 refuses
      5459n,
      5777n,
      10877n,
      16109n,
      18971n,
      // Carmichael numbers; squares of primes; primes and their neighbours
      chernick(1n),
      chernick(6n),
      chernick(35n),
      chernick(45n),
      ((1n << 127n) - 1n) ** 2n,
      ((1n << 89n) - 1n) ** 2n,
      ((1n << 127n) - 1n) * ((1n << 89n) - 1n),
      (1n << 521n) - 1n,
      (1n << 607n) - 1n,
      (1n << 1279n) - 1n,
      (1n << 1279n) + 1n,
      (1n << 255n) - 19n,
      2n ** 256n - 2n ** 32n - 977n,
    ])
      same(n);
    fc.assert(
      fc.property(fc.bigInt({ min: 3n, max: (1n << 1100n) - 1n }), (n) => same(n | 1n)),
      { numRuns: 300 },
    );
  });

  it('checks its arguments', () => {
    const call = nativeAddon()!.hashPrime as unknown as (...a: unknown[]) => unknown;
    const seed = Uint8Array.of(1, 2, 3);
    expect(() => call(new Uint8Array(0), 264, [])).toThrow(/empty/);
    expect(() => call('seed', 264, [])).toThrow(/Uint8Array/);
    for (const bits of [0, 4, 12, 4104, 8.5, '264']) expect(() => call(seed, bits, [])).toThrow();
    expect(() => call(seed, 264, [264])).toThrow(/set bit/);
    expect(() => call(seed, 264, [-1])).toThrow(/set bit/);
    expect(() => call(seed, 264, 263)).toThrow(/array/);
    expect(() => call(seed, 264)).toThrow(/hashPrime\(seed, bits, setBits\)/);
    const bpsw = nativeAddon()!.bpswProbablePrime as unknown as (...a: unknown[]) => unknown;
    for (const n of [Uint8Array.of(1), Uint8Array.of(4), Uint8Array.of(0, 7), new Uint8Array(0)])
      expect(() => bpsw(n)).toThrow(RangeError);
  });
});
