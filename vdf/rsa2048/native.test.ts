import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { bigintToBytes, bigintToMinimalBytes, concatBytes } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { nativeSquareChain } from '../native-chain.ts';
import { hashPrime } from '../primes/index.ts';
import { solve } from '../solver/solve.ts';
import { verifyProof } from '../verify.ts';
import { bucketSum, type PassPlan } from '../wesolowski/index.ts';
import { rsa2048Group } from './group.ts';
import { ELEMENT_BYTES, HALF_N, N } from './modulus.ts';
import { type NativeArithmetic, nativeAddon, nativeArithmetic, nativeStatus } from './native.ts';
import { nativeRsaSquareChain } from './native-chain.ts';
import {
  fuseFactor,
  nativeBucketSum,
  nativeRsaBucketSum,
  nativeRsaBucketSums,
} from './native-pass.ts';

const status = nativeStatus();
if (!status.available) console.warn(`[native] skipping native VDF tests: ${status.reason}`);

const group = rsa2048Group(new Uint8Array([9]));
const primes = [1, 2, 3].map((s) => hashPrime(new Uint8Array([0x6e, s]), 264, [263]));
/** Challenges of ≤ 64 bits take the addon's exact-division path for every digit. */
const smallPrimes = [1_000_003n, 2n ** 61n - 1n];
const enc = (v: bigint) => bigintToBytes(v, ELEMENT_BYTES);

/** The TypeScript reference on decoded elements. */
function reference(challenge: bigint, k: number, plan: PassPlan, elements: bigint[]) {
  return bucketSum(group, challenge, k, plan, () => elements);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const arithmetics: NativeArithmetic[] =
  status.available && status.ifma52 ? ['openssl', 'ifma52'] : ['openssl'];
if (status.available && !status.ifma52)
  console.warn('[native] this CPU has no AVX-512 IFMA: only the OpenSSL arithmetic is tested');

describe.skipIf(!status.available)('native rsa2048 bucket pass', () => {
  const addon = nativeAddon()!;

  it.each(arithmetics)(
    '%s arithmetic equals the TypeScript bucket sum for random elements, digits and chunking (property)',
    (arithmetic) => {
      fc.assert(
        fc.property(
          fc.constantFrom(...primes, ...smallPrimes),
          fc.integer({ min: 1, max: 10 }),
          fc.array(fc.bigInt({ min: 1n, max: HALF_N }), { maxLength: 120 }),
          fc.integer({ min: 0, max: 130 }),
          fc.bigInt({ min: 0n, max: 2n ** 264n }),
          fc.bigInt({ min: 0n, max: 2n ** 264n }),
          fc.constantFrom('one-by-one', 'single-chunk', 'pairs'),
          (challenge, k, elements, count, r, s, chunking) => {
            const plan = { count, rem: r % challenge, stepDown: s % challenge };
            const encoded = elements.map(enc);
            const chunks =
              chunking === 'one-by-one'
                ? encoded
                : chunking === 'single-chunk'
                  ? [concatBytes(...encoded)]
                  : encoded.flatMap((e, i) =>
                      i % 2 === 0 ? [concatBytes(e, ...encoded.slice(i + 1, i + 2))] : [],
                    );
            const native = nativeRsaBucketSum(addon, challenge, k, plan, () => chunks, arithmetic);
            expect(native).toBe(reference(challenge, k, plan, elements));
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it.each(arithmetics)(
    '%s: buckets stay exact past the renormalisation of long products (k = 1, 1500 elements)',
    (arithmetic) => {
      const elements = [group.input];
      while (elements.length < 1500) elements.push(group.square(elements.at(-1)!));
      const challenge = primes[0]!;
      const plan = { count: 1500, rem: 12345n, stepDown: (challenge + 1n) / 2n };
      const native = nativeRsaBucketSum(
        addon,
        challenge,
        1,
        plan,
        () => elements.map(enc),
        arithmetic,
      );
      expect(native).toBeDefined();
      expect(native).toBe(reference(challenge, 1, plan, elements));
    },
  );

  it.each(arithmetics)(
    '%s: batches of independent products match with many distinct and repeated digits (k = 12, 3000 elements)',
    (arithmetic) => {
      const elements = [group.input];
      while (elements.length < 3000) elements.push(group.square(elements.at(-1)!));
      const challenge = primes[1]!;
      const plan = { count: 3000, rem: challenge / 7n, stepDown: (challenge + 1n) / 2n };
      const native = nativeRsaBucketSum(
        addon,
        challenge,
        12,
        plan,
        () => [concatBytes(...elements.map(enc))],
        arithmetic,
      );
      expect(native).toBe(reference(challenge, 12, plan, elements));
    },
  );

  it.each(arithmetics)(
    '%s: digits on a boundary of 2^k·rem/ℓ take the exact path and match',
    (arithmetic) => {
      const elements = [group.input];
      while (elements.length < 8) elements.push(group.square(elements.at(-1)!));
      const challenge = primes[2]!;
      for (const k of [1, 7, 16])
        for (const j of [1n, 3n, (1n << BigInt(k)) - 1n])
          for (const nudge of [-1n, 0n, 1n]) {
            const rem = ((challenge * j) >> BigInt(k)) + nudge;
            if (rem < 0n || rem >= challenge) continue;
            // stepDown = 1 keeps rem, so every checkpoint sits on the same boundary.
            const plan = { count: elements.length, rem, stepDown: 1n };
            expect(
              nativeRsaBucketSum(addon, challenge, k, plan, () => elements.map(enc), arithmetic),
            ).toBe(reference(challenge, k, plan, elements));
          }
    },
  );

  it.each(arithmetics)(
    '%s: several passes in one sweep equal each pass alone (fused, uneven counts, chunked)',
    (arithmetic) => {
      const elements = [group.input];
      while (elements.length < 300) elements.push(group.square(elements.at(-1)!));
      const challenge = primes[0]!;
      const plans = [0, 1, 2, 3].map((j) => ({
        count: 300 - (j % 2),
        rem: (challenge / 11n) * BigInt(j + 1),
        stepDown: (challenge + 1n) / BigInt(2 + j),
      }));
      const encoded = elements.map(enc);
      const chunks = [
        concatBytes(...encoded.slice(0, 7)),
        ...encoded.slice(7, 9),
        concatBytes(...encoded.slice(9)),
      ];
      const fused = nativeRsaBucketSums(addon, challenge, 9, plans, () => chunks, arithmetic);
      expect(fused).toEqual(plans.map((plan) => reference(challenge, 9, plan, elements)));
      expect(fuseFactor(12)).toBeGreaterThanOrEqual(2);
      expect(fuseFactor(16)).toBe(1);
    },
  );

  it('chooses IFMA on auto where the CPU has it, OpenSSL when asked, and says so', () => {
    const m = bigintToMinimalBytes(N);
    const ell = bigintToMinimalBytes(primes[0]!);
    const one = new Uint8Array([1]);
    expect(addon.passArithmetic(addon.createPass(m, ell, one, one, 4))).toBe(
      status.available && status.ifma52 ? 'ifma52' : 'openssl',
    );
    expect(addon.passArithmetic(addon.createPass(m, ell, one, one, 4, 'openssl'))).toBe('openssl');
    if (status.available && status.ifma52)
      expect(addon.passArithmetic(addon.createPass(m, ell, one, one, 4, 'ifma52'))).toBe('ifma52');
    else expect(() => addon.createPass(m, ell, one, one, 4, 'ifma52')).toThrow(/IFMA/);
    // A modulus beyond the IFMA multiplier's 2078 bits falls back on auto and fails when forced.
    const big = bigintToMinimalBytes(2n ** 2100n + 1n);
    expect(addon.passArithmetic(addon.createPass(big, ell, one, one, 4))).toBe('openssl');
    expect(() => addon.createPass(big, ell, one, one, 4, 'ifma52')).toThrow(/IFMA|too large/);
    const create = addon.createPass as unknown as (...a: unknown[]) => unknown;
    for (const bad of ['fast', 7, null, 'IFMA52'])
      expect(() => create(m, ell, one, one, 4, bad)).toThrow(/arithmetic must be/);
  });

  it('reads VIGIL_VDF_ARITH strictly', () => {
    const saved = process.env.VIGIL_VDF_ARITH;
    try {
      delete process.env.VIGIL_VDF_ARITH;
      expect(nativeArithmetic()).toBe('auto');
      process.env.VIGIL_VDF_ARITH = 'openssl';
      expect(nativeArithmetic()).toBe('openssl');
      process.env.VIGIL_VDF_ARITH = 'gmp';
      expect(() => nativeArithmetic()).toThrow(VdfError);
    } finally {
      if (saved === undefined) delete process.env.VIGIL_VDF_ARITH;
      else process.env.VIGIL_VDF_ARITH = saved;
    }
  });

  it('returns undefined (the identity) when every digit is zero, like the reference', () => {
    const plan = { count: 5, rem: 0n, stepDown: 3n };
    const elements = [2n, 3n, 5n, 7n, 11n];
    expect(reference(primes[0]!, 4, plan, elements)).toBeUndefined();
    expect(nativeRsaBucketSum(addon, primes[0]!, 4, plan, () => elements.map(enc))).toBeUndefined();
  });

  it('rejects a non-canonical checkpoint with VDF_MALFORMED, as decoding would', () => {
    const plan = { count: 3, rem: primes[0]! - 1n, stepDown: 1n }; // every digit 2^k − 1
    for (const bad of [0n, HALF_N + 1n, N - 1n]) {
      const read = () => [enc(5n), enc(bad), enc(7n)];
      expect(() => nativeRsaBucketSum(addon, primes[0]!, 3, plan, read)).toThrow(VdfError);
      try {
        nativeRsaBucketSum(addon, primes[0]!, 3, plan, read);
      } catch (err) {
        expect((err as VdfError).code).toBe('VDF_MALFORMED');
      }
    }
    expect(() =>
      nativeRsaBucketSum(addon, primes[0]!, 3, plan, () => [new Uint8Array(255)]),
    ).toThrow(VdfError);
    // Also when its digit is zero and it would not be multiplied.
    const zeroDigits = { count: 2, rem: 0n, stepDown: 1n };
    expect(() =>
      nativeRsaBucketSum(addon, primes[0]!, 3, zeroDigits, () => [enc(5n), enc(HALF_N + 1n)]),
    ).toThrow(/not canonical/);
  });

  it('throws JS errors, never crashes, on bad arguments', () => {
    const m = bigintToMinimalBytes(N);
    const ell = bigintToMinimalBytes(primes[0]!);
    const one = new Uint8Array([1]);
    const create = (...args: unknown[]) =>
      (addon.createPass as unknown as (...a: unknown[]) => unknown)(...args);
    expect(() => create()).toThrow(/createPass/);
    expect(() => create('x', ell, one, one, 4)).toThrow(/modulus must be a Uint8Array/);
    expect(() => create(new Uint16Array(4), ell, one, one, 4)).toThrow(/Uint8Array/);
    expect(() => create(new Uint8Array(0), ell, one, one, 4)).toThrow(/modulus/);
    expect(() => create(new Uint8Array(513).fill(1), ell, one, one, 4)).toThrow(/modulus/);
    expect(() => create(concatBytes(new Uint8Array([0]), m), ell, one, one, 4)).toThrow(/leading/);
    expect(() => create(bigintToMinimalBytes(N - 1n), ell, one, one, 4)).toThrow(/odd/);
    expect(() => create(m, new Uint8Array([4]), one, one, 4)).toThrow(/challenge must be odd/);
    expect(() => create(m, new Uint8Array(65).fill(1), one, one, 4)).toThrow(/challenge/);
    expect(() => create(m, ell, ell, one, 4)).toThrow(/below the challenge/);
    expect(() => create(m, ell, one, ell, 4)).toThrow(/below the challenge/);
    for (const k of [0, 21, 1.5, Number.NaN, '4', -1])
      expect(() => create(m, ell, one, one, k)).toThrow(/k must be/);

    const pass = addon.createPass(m, ell, one, one, 4);
    const feed = addon.feedPass as unknown as (...a: unknown[]) => unknown;
    const finish = addon.finishPass as unknown as (...a: unknown[]) => unknown;
    expect(() => feed(pass, new Uint8Array(ELEMENT_BYTES + 1))).toThrow(/multiple of 256/);
    expect(() => feed({}, new Uint8Array(ELEMENT_BYTES))).toThrow(/createPass/);
    expect(() => feed(pass, 'bytes')).toThrow(/Uint8Array/);
    expect(() => finish(42)).toThrow(/createPass/);
    feed(pass, enc(3n));
    finish(pass);
    expect(() => finish(pass)).toThrow(/already finished/);
    expect(() => feed(pass, enc(3n))).toThrow(/already finished/);
  });

  it('solve → verify round trip gives byte-identical proofs with native on and off', async () => {
    const feed = vi.spyOn(addon, 'feedPass');
    const chain = vi.spyOn(addon, 'squareChain');
    const seed = new Uint8Array([0x6e, 0x61]);
    const on = await solve({ group: 'rsa2048', seed, iterations: 20_000, native: true });
    expect(feed).toHaveBeenCalled();
    expect(chain).toHaveBeenCalled();
    feed.mockClear();
    chain.mockClear();
    const off = await solve({ group: 'rsa2048', seed, iterations: 20_000, native: false });
    expect(feed).not.toHaveBeenCalled();
    expect(chain).not.toHaveBeenCalled();
    feed.mockRestore();
    chain.mockRestore();
    expect(Buffer.from(on.output).equals(Buffer.from(off.output))).toBe(true);
    expect(Buffer.from(on.proof).equals(Buffer.from(off.proof))).toBe(true);
    expect(verifyProof({ ...on, proof: on.proof })).toEqual({ valid: true });
  });

  it('streams from disk in two worker threads with the same proof as the TypeScript path', async () => {
    const seed = new Uint8Array([0x6e, 0x62]);
    const run = (native: boolean) => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-native-'));
      dirs.push(dir);
      return solve({
        group: 'rsa2048',
        seed,
        iterations: 40_000,
        checkpointDir: dir,
        workers: 2,
        native,
      });
    };
    const [on, off] = [await run(true), await run(false)];
    expect(Buffer.from(on.proof).equals(Buffer.from(off.proof))).toBe(true);
    expect(verifyProof(on)).toEqual({ valid: true });
  });
});

describe.skipIf(!status.available)('native rsa2048 evaluation chain', () => {
  const addon = nativeAddon()!;

  it('records the same canonical elements as squareTimes at every multiple of the interval (property)', () => {
    const chain = nativeRsaSquareChain(addon);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: HALF_N }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 250 }),
        (x, offset, count, interval) => {
          const records = chain(enc(x), offset, count, interval);
          const expected: bigint[] = [];
          let v = x;
          for (let i = 1; i <= count; i++) {
            v = group.square(v);
            if ((offset + i) % interval === 0) expected.push(v);
          }
          expected.push(v);
          expect(records.map((r) => Buffer.from(r).toString('hex'))).toEqual(
            expected.map((e) => Buffer.from(enc(e)).toString('hex')),
          );
        },
      ),
      { numRuns: 40 },
    );
    // Long runs go through OpenSSL's squaring exactly as the raw RSA path does.
    const [last] = chain(enc(group.input), 0, 50_000, 100_000);
    expect(
      Buffer.from(last!).equals(Buffer.from(enc(group.squareTimes(group.input, 50_000)))),
    ).toBe(true);
  });

  it('rejects bad arguments with JS errors before any work', () => {
    const m = bigintToMinimalBytes(N);
    const call = (...args: unknown[]) =>
      (addon.squareChain as unknown as (...a: unknown[]) => unknown)(...args);
    expect(() => call(m, enc(5n), 0, 1)).toThrow(/squareChain/);
    expect(() => call(bigintToMinimalBytes(N - 1n), enc(5n), 0, 1, 1)).toThrow(/odd/);
    for (const x of [enc(0n), new Uint8Array(255).fill(1), bigintToBytes(N, ELEMENT_BYTES), 'x'])
      expect(() => call(m, x, 0, 1, 1)).toThrow(/x must be|Uint8Array/);
    for (const [offset, count, interval] of [
      [-1, 1, 1],
      [0.5, 1, 1],
      [0, 0, 1],
      [0, 2 ** 24 + 1, 2 ** 24],
      [0, 1, 0],
      [0, 1, Number.NaN],
      [2 ** 54, 1, 1],
    ])
      expect(() => call(m, enc(5n), offset, count, interval)).toThrow(/must be a whole number/);
    expect(() => call(m, enc(5n), 0, 2 ** 20, 8)).toThrow(/checkpoints in one call/);
  });

  it('is chosen for both groups, and only when enabled', () => {
    const seed = Uint8Array.of(1, 2, 3);
    expect(nativeSquareChain('rsa2048', seed, true)).toBeDefined();
    expect(nativeSquareChain('rsa2048', seed, false)).toBeUndefined();
    expect(nativeSquareChain('class1024', seed, true)).toBeDefined();
    expect(nativeSquareChain('class1024', seed, false)).toBeUndefined();
  });
});

describe('native backend selection', () => {
  it('falls back to the TypeScript path when disabled or for class1024', () => {
    expect(nativeBucketSum('rsa2048', false, primes[0]!, 4, () => [])).toBeUndefined();
    expect(nativeBucketSum('class1024', true, primes[0]!, 4, () => [])).toBeUndefined();
    expect(nativeBucketSum('rsa2048', true, primes[0]!, 4, () => []) !== undefined).toBe(
      status.available,
    );
  });
});
