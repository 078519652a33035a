import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeWithVectors, readVectorText } from '../../test/support/vectors.ts';
import { bigintToMinimalBytes } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { hashPrime } from '../primes/index.ts';
import { nativeAddon, nativeStatus } from '../rsa2048/native.ts';
import { decodeForm, encodeForm } from './bqfc.ts';
import { discriminantFromSeed } from './discriminant.ts';
import { opsFor, partialBound } from './fast.ts';
import { type Form, generatorForm, identityForm, reduce } from './form.ts';
import {
  FORM_RECORD_BYTES,
  formFromRecord,
  formToRecord,
  nativeClass1024SquareChain,
  nativeFormChain,
  nativeFormOps,
} from './native.ts';
import { multiExp } from './pow.ts';

const status = nativeStatus();
if (!status.available) console.warn(`[native class1024] skipping: ${status.reason}`);
const describeNative = status.available ? describe : describe.skip;

/** −p for a prime p ≡ 7 (mod 8) of `bits` bits: D ≡ 1 (mod 8), so (2, 1) is a form. */
function discriminantOfBits(seed: number, bits: number): bigint {
  return -hashPrime(Uint8Array.of(seed & 255, seed >> 8, bits & 255, 0x71), bits, [
    0,
    1,
    2,
    bits - 1,
  ]);
}

/** g^e by the TypeScript backend. */
function formOf(D: bigint, e: bigint): Form {
  return multiExp(opsFor(D), [generatorForm(D)], [e]) ?? identityForm(D);
}

/** The TypeScript reference for a chain: the forms a native chain must record. */
function tsChain(D: bigint, f: Form, offset: number, count: number, interval: number): Form[] {
  const ops = opsFor(D);
  const out: Form[] = [];
  let g = f;
  for (let i = 1; i <= count; i++) {
    g = ops.square(g);
    if ((offset + i) % interval === 0) out.push(g);
  }
  out.push(g);
  return out;
}

const discriminants = new Map<string, bigint>();
function cachedDiscriminant(seed: number, bits: number): bigint {
  const key = `${seed}/${bits}`;
  let D = discriminants.get(key);
  if (D === undefined) {
    D = discriminantOfBits(seed, bits);
    discriminants.set(key, D);
  }
  return D;
}

describeNative('native class1024 chain against the TypeScript backend, byte for byte', () => {
  it('records the same reduced forms on random discriminants, forms and chain shapes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom(64, 128, 256, 512, 1024),
        fc.bigInt({ min: 1n, max: (1n << 80n) - 1n }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 50 }),
        (seed, bits, e, offset, count, interval) => {
          const D = cachedDiscriminant(seed, bits);
          const f = formOf(D, e);
          const native = nativeFormChain(nativeAddon()!, D)(f, offset, count, interval);
          expect(native).toEqual(tsChain(D, f, offset, count, interval));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('squares the generator, the identity and small forms of a Chia discriminant', () => {
    const D = discriminantFromSeed(Uint8Array.of(0xbe, 0x7c));
    const chain = nativeFormChain(nativeAddon()!, D);
    for (const f of [generatorForm(D), identityForm(D), formOf(D, 3n)])
      expect(chain(f, 0, 400, 97)).toEqual(tsChain(D, f, 0, 400, 97));
    expect(chain(identityForm(D), 0, 5, 1)).toEqual(new Array(6).fill(identityForm(D)));
  });

  it('round-trips forms through records', () => {
    const D = discriminantFromSeed(Uint8Array.of(0xbe, 0x7c));
    const f = formOf(D, 12345n);
    expect(formFromRecord(formToRecord(f), D)).toEqual(f);
    expect(formToRecord(f).length).toBe(FORM_RECORD_BYTES);
    const neg = { ...f, b: -f.b };
    expect(formFromRecord(formToRecord(neg), D)).toEqual(neg);
    // A record of another discriminant, or with a = 0, is no form of D.
    const other = discriminantFromSeed(Uint8Array.of(0x51, 0x01));
    expect(() => formFromRecord(formToRecord(formOf(other, 5n)), D)).toThrow(VdfError);
    expect(() => formFromRecord(new Uint8Array(FORM_RECORD_BYTES), D)).toThrow(/not a form/);
  });

  it('the solver chain works on BQFC encodings and resumes from any element', () => {
    const D = discriminantFromSeed(Uint8Array.of(0x51, 0x01));
    const chain = nativeClass1024SquareChain(nativeAddon()!, D);
    const x = encodeForm(formOf(D, 99n));
    const whole = chain(x, 0, 300, 100);
    const first = chain(x, 0, 150, 100);
    const rest = chain(first.at(-1)!, 150, 150, 100);
    expect([...first.slice(0, -1), ...rest]).toEqual(whole);
    expect(whole.map((b) => decodeForm(D, b))).toEqual(tsChain(D, formOf(D, 99n), 0, 300, 100));
  });

  it('refuses malformed input with a RangeError and never crashes', () => {
    const addon = nativeAddon()!;
    const D = discriminantFromSeed(Uint8Array.of(0x52, 0x01));
    const d = bigintToMinimalBytes(-D);
    const L = bigintToMinimalBytes(partialBound(D));
    const good = formToRecord(generatorForm(D));
    const call = (dd: unknown, ll: unknown, f: unknown, o: unknown, c: unknown, i: unknown) =>
      (addon.classSquareChain as (...a: unknown[]) => Uint8Array)(dd, ll, f, o, c, i);
    expect(call(d, L, good, 0, 1, 1).length).toBe(2 * FORM_RECORD_BYTES);
    // |D| ≡ 3 (mod 4) only, at most 1024 bits, no leading zero.
    expect(() => call(bigintToMinimalBytes(-D + 1n), L, good, 0, 1, 1)).toThrow(/discriminant/);
    expect(() => call(new Uint8Array(129).fill(3), L, good, 0, 1, 1)).toThrow(/discriminant/);
    expect(() => call(Uint8Array.of(0, ...d), L, good, 0, 1, 1)).toThrow(/discriminant/);
    expect(() => call(d, new Uint8Array(0), good, 0, 1, 1)).toThrow(/bound/);
    expect(() => call(d, new Uint8Array(65).fill(1), good, 0, 1, 1)).toThrow(/bound/);
    expect(() => call(d, L, good.subarray(1), 0, 1, 1)).toThrow(/129 bytes/);
    const badSign = good.slice();
    badSign[64] = 2;
    expect(() => call(d, L, badSign, 0, 1, 1)).toThrow(/sign/);
    const notAForm = good.slice();
    let a = 3n;
    while ((1n - D) % (4n * a) === 0n) a++;
    notAForm[63] = Number(a); // 4a does not divide b² − D
    expect(() => call(d, L, notAForm, 0, 1, 1)).toThrow(/does not divide/);
    const zeroA = good.slice();
    zeroA[63] = 0;
    expect(() => call(d, L, zeroA, 0, 1, 1)).toThrow(/positive/);
    // A valid but unreduced form: (2, 1) moved by b -> b + 2a·5.
    const unreduced = formToRecord({ a: 2n, b: 21n, c: (441n - D) / 8n });
    expect(() => call(d, L, unreduced, 0, 1, 1)).toThrow(/not reduced/);
    for (const [o, c, i] of [
      [-1, 1, 1],
      [0, 0, 1],
      [0, 2 ** 24 + 1, 2 ** 24],
      [0, 1, 0],
      [0.5, 1, 1],
    ])
      expect(() => call(d, L, good, o, c, i)).toThrow(/must be a whole number/);
    expect(() => call(d, L, good, 0, 2 ** 20, 8)).toThrow(/checkpoints in one call/);
    expect(() => call(d, L, 'x', 0, 1, 1)).toThrow(/Uint8Array/);
  });

  it('answers random records with a RangeError or a valid chain, never a crash', () => {
    const addon = nativeAddon()!;
    const D = discriminantFromSeed(Uint8Array.of(0x52, 0x01));
    const d = bigintToMinimalBytes(-D);
    const L = bigintToMinimalBytes(partialBound(D));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 129, maxLength: 129 }), (bytes) => {
        let out: Uint8Array | undefined;
        try {
          out = addon.classSquareChain(d, L, bytes, 0, 3, 2);
        } catch (err) {
          expect(err).toBeInstanceOf(RangeError);
          return;
        }
        const f = formFromRecord(bytes, D);
        expect(out.length).toBe(3 * FORM_RECORD_BYTES);
        expect(formFromRecord(out.subarray(2 * FORM_RECORD_BYTES), D)).toEqual(
          tsChain(D, f, 0, 3, 2).at(-1),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describeNative('native NUCOMP and multi-exponentiation against the TypeScript backend', () => {
  it('multiplies like NUCOMP in TypeScript, including equal, inverse and small-a operands', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom(64, 256, 1024),
        fc.bigInt({ min: 1n, max: (1n << 80n) - 1n }),
        fc.bigInt({ min: 1n, max: (1n << 80n) - 1n }),
        (seed, bits, e1, e2) => {
          const D = cachedDiscriminant(seed, bits);
          const ts = opsFor(D);
          const ops = nativeFormOps(nativeAddon()!, D);
          const f = formOf(D, e1);
          const g = formOf(D, e2);
          const inverse = reduce({ a: f.a, b: -f.b, c: f.c });
          for (const [x, y] of [
            [f, g],
            [f, f],
            [f, inverse],
            [f, generatorForm(D)],
            [generatorForm(D), g],
            [identityForm(D), g],
          ] as const)
            expect(ops.mul(x, y)).toEqual(ts.mul(x, y));
          expect(ops.square(f)).toEqual(ts.square(f));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('computes ∏ f_i^e_i like the TypeScript multiExp', () => {
    const D = discriminantFromSeed(Uint8Array.of(0xbe, 0x7c));
    const ts = opsFor(D);
    const ops = nativeFormOps(nativeAddon()!, D);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
            fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 270n) - 1n })),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        (pairs) => {
          const bases = pairs.map(([e]) => formOf(D, e));
          const exps = pairs.map(([, x]) => x);
          expect(multiExp(ops, bases, exps)).toEqual(multiExp(ts, bases, exps));
        },
      ),
      { numRuns: 25 },
    );
    expect(multiExp(ops, [generatorForm(D)], [0n])).toBeUndefined();
    expect(() => multiExp(ops, [generatorForm(D)], [-1n])).toThrow(RangeError);
  });

  it('refuses malformed operands', () => {
    const addon = nativeAddon()!;
    const D = discriminantFromSeed(Uint8Array.of(0x52, 0x01));
    const d = bigintToMinimalBytes(-D);
    const L = bigintToMinimalBytes(partialBound(D));
    const g = formToRecord(generatorForm(D));
    expect(() => addon.classMul(d, L, g, g.subarray(1))).toThrow(/129 bytes/);
    expect(() => addon.classMultiExp(d, L, g, [])).toThrow(/as many/);
    expect(() => addon.classMultiExp(d, L, new Uint8Array(0), [])).toThrow(/as many/);
    expect(() =>
      addon.classMultiExp(d, L, new Uint8Array(9 * FORM_RECORD_BYTES), new Array(9).fill(g)),
    ).toThrow(/as many/);
    expect(() => addon.classMultiExp(d, L, g, [new Uint8Array(1025)])).toThrow(/1024 bytes/);
    const bad = g.slice();
    bad[64] = 7;
    expect(() => addon.classMultiExp(d, L, bad, [Uint8Array.of(1)])).toThrow(/sign/);
  });
});

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

// Needs the addon and shared/vectors/chia; a missing one shows as a skip with its reason.
const chiaVectors = () => {
  it('reproduces y = x^(2^T) of the shortest chiavdf record', () => {
    const lines = readVectorText('chia', 'vdf.txt').trim().split('\n');
    let best: { seed: string; x: string; y: string; T: number } | undefined;
    for (let i = 0; i + 6 <= lines.length; i += 6) {
      const T = Number(lines[i + 4]);
      if (best === undefined || T < best.T)
        best = { seed: lines[i]!, x: lines[i + 2]!, y: lines[i + 3]!.slice(0, 200), T };
    }
    const D = discriminantFromSeed(fromHex(best!.seed));
    const chain = nativeClass1024SquareChain(nativeAddon()!, D);
    const y = chain(fromHex(best!.x), 0, best!.T, 2 ** 53).at(-1)!;
    expect(Buffer.from(y).toString('hex')).toBe(best!.y);
  }, 120_000);
};
if (status.available)
  describeWithVectors('chia', "native class1024 chain on Chia's vectors", chiaVectors);
else describe.skip("native class1024 chain on Chia's vectors", chiaVectors);
