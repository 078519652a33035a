import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigintToMinimalBytes } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { solve } from '../index.ts';
import { hashPrime } from '../primes/index.ts';
import { nativeAddon, nativeStatus } from '../rsa2048/native.ts';
import { type PassPlan, passPlan, prove, proveRange } from '../wesolowski/index.ts';
import { decodeForm, encodeForm, FORM_BYTES } from './bqfc.ts';
import { discriminantFromSeed } from './discriminant.ts';
import { opsFor } from './fast.ts';
import { type Form, generatorForm, identityForm } from './form.ts';
import { class1024Group } from './group.ts';
import { formFromRecord, formToRecord } from './native.ts';
import { classFuseFactor, nativeClassBucketSum, nativeClassBucketSums } from './native-pass.ts';
import { multiExp } from './pow.ts';

const status = nativeStatus();
if (!status.available) console.warn(`[native class1024 prover] skipping: ${status.reason}`);
const describeNative = status.available ? describe : describe.skip;

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
// bqfc.test.ts's discriminant: its hand-made malformed encodings are malformed for this D.
const D = discriminantFromSeed(
  fromHex('9104c5b5e45d48f374efa0488fe6a617790e9aecb3c9cddec06809b09f45ce9b'),
);
const disc = bigintToMinimalBytes(-D);

function formOf(e: bigint): Form {
  return multiExp(opsFor(D), [generatorForm(D)], [e]) ?? identityForm(D);
}

/** What the TypeScript decoder makes of the bytes: the form, or undefined when it refuses. */
function tsDecode(bytes: Uint8Array): Form | undefined {
  try {
    return decodeForm(D, bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(VdfError);
    expect((err as VdfError).code).toBe('VDF_MALFORMED');
    return undefined;
  }
}

function nativeDecode(bytes: Uint8Array): Form | undefined {
  try {
    return formFromRecord(nativeAddon()!.classDecode(disc, bytes), D);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('VDF_MALFORMED');
    return undefined;
  }
}

describeNative('native BQFC (class_bqfc.cc) against bqfc.ts', () => {
  it('encodes and decodes random reduced forms and their inverses byte for byte', () => {
    const addon = nativeAddon()!;
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (e) => {
        const f = formOf(e);
        const forms = f.b > 0n && f.b !== f.a && f.a !== f.c ? [f, { ...f, b: -f.b }] : [f];
        for (const g of forms) {
          const bytes = encodeForm(g);
          expect(new Uint8Array(addon.classEncode(disc, formToRecord(g)))).toEqual(bytes);
          expect(nativeDecode(bytes)).toEqual(g);
        }
      }),
      { numRuns: 60 },
    );
    // Many at once, and the flag forms.
    const many = [identityForm(D), generatorForm(D), formOf(3n), formOf(1n << 100n)];
    const records = Buffer.concat(many.map(formToRecord));
    const encodings = Buffer.concat(many.map(encodeForm));
    expect(Buffer.from(addon.classEncode(disc, records))).toEqual(encodings);
    expect(Buffer.from(addon.classDecode(disc, encodings))).toEqual(records);
  });

  it('refuses exactly what the TypeScript decoder refuses: flipped bits, bytes and fields', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.array(fc.tuple(fc.nat(FORM_BYTES - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        (e, flips) => {
          const bytes = Uint8Array.from(encodeForm(formOf(e)));
          for (const [at, mask] of flips) bytes[at]! ^= mask;
          expect(nativeDecode(bytes)).toEqual(tsDecode(bytes));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses the hand-made malformed encodings of bqfc.test.ts, and bad lengths', () => {
    const good = encodeForm(formOf(123456789n));
    const cases: Uint8Array[] = [];
    const edit = (base: Uint8Array, f: (b: Uint8Array) => void) => {
      const b = Uint8Array.from(base);
      f(b);
      cases.push(b);
    };
    edit(new Uint8Array(FORM_BYTES), (b) => (b[0] = 0x0c)); // both flags
    edit(encodeForm(generatorForm(D)), (b) => (b[50] = 1)); // flag form with data
    edit(encodeForm(identityForm(D)), (b) => (b[0]! |= 0x80)); // unknown flag
    edit(new Uint8Array(FORM_BYTES), (b) => (b[1] = 0xff)); // g_size out of range
    edit(good, (b) => (b[1] = 32));
    edit(good, (b) => (b[99]! ^= 1));
    edit(new Uint8Array(FORM_BYTES), () => {}); // all zeros
    edit(new Uint8Array(FORM_BYTES), (b) => (b[66] = 1)); // a' = 0, t = 1
    edit(good, (b) => (b[99]! ^= 4)); // b0 inflated: chiavdf's malleability
    edit(good, (b) => (b[99]! ^= 8));
    for (const bytes of cases) {
      expect(tsDecode(bytes)).toBeUndefined();
      expect(nativeDecode(bytes)).toBeUndefined();
    }
    const addon = nativeAddon()!;
    expect(() => addon.classDecode(disc, good.subarray(0, 99))).toThrow(/multiple of 100/);
    expect(() => addon.classDecode(disc, new Uint8Array(101))).toThrow(/multiple of 100/);
    // The index of the bad one in a batch.
    expect(() => addon.classDecode(disc, Buffer.concat([good, cases[5]!]))).toThrow(
      /checkpoint 1 of this batch: /,
    );
  });

  it('refuses records that are not reduced forms of D when encoding', () => {
    const addon = nativeAddon()!;
    const record = Uint8Array.from(formToRecord(formOf(99n)));
    record[10]! ^= 1;
    expect(() => addon.classEncode(disc, record)).toThrow(/form record/);
  });
});

/** The checkpoints C_i = x^(2^(interval·i)) for k·l·i < T, by the TypeScript backend. */
function checkpoints(seedD: bigint, T: number, interval: number): Form[] {
  const ops = opsFor(seedD);
  const out: Form[] = [];
  let f = generatorForm(seedD);
  for (let i = 0; i < T; i++) {
    if (i % interval === 0) out.push(f);
    f = ops.square(f);
  }
  return out;
}

describeNative('native class1024 prover pass', () => {
  it('gives byte-identical proofs to the TypeScript reference on random seeds, T, k and l', () => {
    const addon = nativeAddon()!;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 8 }),
        fc.integer({ min: 1, max: 1500 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        (seed, T, k, l, salt) => {
          const group = class1024Group(seed, opsFor(discriminantFromSeed(seed)));
          const Dg = discriminantFromSeed(seed);
          const params = { k, l, interval: k * l };
          const cs = checkpoints(Dg, T, params.interval);
          const ell = hashPrime(
            Uint8Array.of(salt & 255, (salt >> 8) & 255, salt >> 16),
            264,
            [263],
          );
          const reference = prove(group, T, ell, params, () => cs);
          const encoded = Buffer.concat(cs.map(encodeForm));
          // Chunks of uneven sizes, as a checkpoint directory's segments.
          const read = () => [
            encoded.subarray(0, 3 * FORM_BYTES),
            encoded.subarray(3 * FORM_BYTES),
          ];
          const sum = nativeClassBucketSum(addon, Dg, ell, k, read);
          const native = proveRange(group, T, ell, params, 0, l, () => [], undefined, sum);
          expect(encodeForm(native)).toEqual(encodeForm(reference));
          // One pass at a time gives the same (no fusing).
          const single = { fuse: 1, run: sum.run };
          const unfused = proveRange(group, T, ell, params, 0, l, () => [], undefined, single);
          expect(encodeForm(unfused)).toEqual(encodeForm(reference));
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('refuses a malformed checkpoint with VDF_MALFORMED, and checkpoints that end early', () => {
    const addon = nativeAddon()!;
    const cs = checkpoints(D, 200, 10);
    const ell = hashPrime(Uint8Array.of(7), 264, [263]);
    const plan = passPlan(200, ell, { k: 2, l: 5, interval: 10 }, 0) as PassPlan;
    const encoded = Buffer.concat(cs.map(encodeForm));
    const bad = Uint8Array.from(encoded);
    bad[5 * FORM_BYTES + 99]! ^= 4;
    const run = (bytes: Uint8Array) =>
      nativeClassBucketSums(addon, D, ell, 2, [plan], () => [bytes]);
    expect(() => run(bad)).toThrow(VdfError);
    try {
      run(bad);
    } catch (err) {
      expect((err as VdfError).code).toBe('VDF_MALFORMED');
      expect((err as Error).message).toMatch(/checkpoint 5 of this batch/);
    }
    expect(() => run(encoded.subarray(0, 4 * FORM_BYTES))).toThrow(/ended before/);
    expect(() => run(encoded.subarray(0, 4 * FORM_BYTES + 1))).toThrow(/chunk of 401 bytes/);
  });

  it('fuses passes while their buckets stay within the budget', () => {
    for (let k = 1; k <= 16; k++) {
      const fuse = classFuseFactor(k);
      expect(fuse).toBeGreaterThanOrEqual(1);
      expect(fuse).toBeLessThanOrEqual(4096);
      // Within 48 MiB of packed 264-byte forms, unless a single pass needs more.
      if (fuse > 1) expect(fuse * 2 ** k * 264).toBeLessThanOrEqual(48 * 2 ** 20);
    }
    expect(classFuseFactor(7)).toBeGreaterThan(1000);
  });
});

describe('without the addon (VIGIL_VDF_NATIVE=0, a child process)', () => {
  it('solves on the TypeScript path to the same output and proof', async () => {
    const seed = Uint8Array.of(0x5e, 0x01);
    const script = `
      import { solve, nativeStatus } from ${JSON.stringify(new URL('../index.ts', import.meta.url).href)};
      const r = await solve({ group: 'class1024', seed: Uint8Array.of(0x5e, 0x01), iterations: 700 });
      console.log(JSON.stringify({ native: nativeStatus().available, output: Buffer.from(r.output).toString('hex'), proof: Buffer.from(r.proof).toString('hex') }));
    `;
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { ...process.env, VIGIL_VDF_NATIVE: '0' }, timeout: 120_000 },
    );
    const child = JSON.parse(out.toString().trim().split('\n').at(-1)!);
    expect(child.native).toBe(false);
    const here = await solve({ group: 'class1024', seed, iterations: 700 });
    expect(child.output).toBe(Buffer.from(here.output).toString('hex'));
    expect(child.proof).toBe(Buffer.from(here.proof).toString('hex'));
  }, 120_000);
});
