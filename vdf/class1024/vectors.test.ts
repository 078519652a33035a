import { expect, it } from 'vitest';
import { describeWithVectors, readVectorText } from '../../test/support/vectors.ts';
import { VdfError, type VdfErrorCode } from '../errors.ts';
import { decodeForm, encodeForm } from './bqfc.ts';
import { discriminantFromSeed } from './discriminant.ts';
import { getB, SEGMENT_BYTES, verifyChiaRecord, verifyClass1024 } from './verify.ts';

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

interface ChiaRecord {
  index: number;
  seed: Uint8Array;
  x: Uint8Array;
  blob: Uint8Array;
  T: bigint;
  depth: number;
}

function loadRecords(): ChiaRecord[] {
  const lines = readVectorText('chia', 'vdf.txt').trim().split('\n');
  const out: ChiaRecord[] = [];
  for (let i = 0; i + 6 <= lines.length; i += 6) {
    const [seed, bits, x, blob, T, depth] = lines.slice(i, i + 6) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    expect(bits).toBe('1024');
    out.push({
      index: i / 6,
      seed: fromHex(seed),
      x: fromHex(x),
      blob: fromHex(blob),
      T: BigInt(T),
      depth: Number(depth),
    });
  }
  return out;
}

function rejects(fn: () => void, codes: VdfErrorCode[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(VdfError);
  expect(codes).toContain((caught as VdfError).code);
}

const WRONG: VdfErrorCode[] = ['VDF_INVALID_PROOF', 'VDF_MALFORMED'];

describeWithVectors('chia', 'chiavdf vectors (shared/vectors/chia)', () => {
  const records = loadRecords();
  const inter = JSON.parse(readVectorText('chia', 'intermediates.json'));

  it('has 110 records of depths 0, 2, 4, 5, 6, 7', () => {
    expect(records.length).toBe(110);
    expect(new Set(records.map((r) => r.depth))).toEqual(new Set([0, 2, 4, 5, 6, 7]));
  });

  it('record 0 step by step: D, y, π, B', () => {
    const r0 = inter.chia_vdf_txt_0;
    const D = discriminantFromSeed(fromHex(r0.challenge_seed_hex));
    expect(D.toString()).toBe(r0.D);
    const y = decodeForm(D, fromHex(r0.y_bqfc_hex));
    expect([y.a.toString(), y.b.toString()]).toEqual(r0.y_ab);
    const proof = decodeForm(D, fromHex(r0.proof_bqfc_hex));
    expect([proof.a.toString(), proof.b.toString()]).toEqual(r0.proof_ab);
    const x = decodeForm(D, fromHex(r0.x_bqfc_hex));
    expect(`0x${getB(x, y).toString(16)}`).toBe(r0.B_hex);
  });

  it('every record verifies (depth 0 and n-Wesolowski)', { timeout: 120_000 }, () => {
    for (const r of records) {
      expect(
        () => verifyChiaRecord(r.seed, r.x, r.blob, r.T, r.depth),
        `record ${r.index}`,
      ).not.toThrow();
    }
  });

  it('every element in every record re-encodes to its own bytes', () => {
    for (const r of records.slice(0, 20)) {
      const D = discriminantFromSeed(r.seed);
      expect(encodeForm(decodeForm(D, r.x))).toEqual(r.x);
      expect(encodeForm(decodeForm(D, r.blob.subarray(0, 100)))).toEqual(r.blob.subarray(0, 100));
    }
  });

  // One record of each depth for the mutation tests.
  const classes = [0, 2, 4, 5, 6, 7].map((d) => records.find((r) => r.depth === d)!);
  classes.push(records.find((r) => r.x[0] !== 0x08)!);

  it('bogus deep proofs are refused before any group work (issue 11 item 5)', () => {
    const r = classes[0]!; // depth 0: y ‖ π
    // 20 segments of 0 iterations (each would cost a Wesolowski check): malformed, at once
    const seg = new Uint8Array(SEGMENT_BYTES);
    seg[8 + 32] = 5; // B = 5 (> 1)
    seg.set(r.blob.subarray(0, 100), 8 + 33); // a valid form as the segment's proof
    const zeros = new Uint8Array(200 + 20 * SEGMENT_BYTES);
    zeros.set(r.blob, 0);
    for (let k = 0; k < 20; k++) zeros.set(seg, 200 + k * SEGMENT_BYTES);
    const t0 = performance.now();
    rejects(() => verifyChiaRecord(r.seed, r.x, zeros, r.T, 20), ['VDF_MALFORMED']);
    expect(performance.now() - t0).toBeLessThan(200); // no group work (a check costs ~10 ms)
    // deeper than any honest prover: refused by its size alone
    const deep = new Uint8Array(200 + 21 * SEGMENT_BYTES);
    rejects(() => verifyChiaRecord(r.seed, r.x, deep, r.T, 21), ['VDF_OUT_OF_RANGE']);
  });

  it('T ± 1 is rejected', { timeout: 60_000 }, () => {
    for (const r of classes) {
      for (const dt of [-1n, 1n]) {
        rejects(
          () => verifyChiaRecord(r.seed, r.x, r.blob, r.T + dt, r.depth),
          ['VDF_INVALID_PROOF'],
        );
      }
    }
  });

  it('flipped bytes of y and π are rejected', { timeout: 60_000 }, () => {
    for (const r of classes) {
      for (const pos of [0, 1, 2, 40, 70, 99, 100, 101, 150, 199]) {
        for (const mask of [0x01, 0x80]) {
          const blob = Uint8Array.from(r.blob);
          blob[pos]! ^= mask;
          rejects(() => verifyChiaRecord(r.seed, r.x, blob, r.T, r.depth), WRONG);
        }
      }
    }
  });

  it('a changed segment iteration count, B or π_seg is rejected', { timeout: 60_000 }, () => {
    for (const r of classes.filter((c) => c.depth > 0)) {
      const seg = 200 + (r.depth - 1) * SEGMENT_BYTES; // processed first
      for (const pos of [seg + 7, seg + 6, seg + 8 + 32, seg + 41 + 50]) {
        const blob = Uint8Array.from(r.blob);
        blob[pos]! ^= 0x01;
        rejects(() => verifyChiaRecord(r.seed, r.x, blob, r.T, r.depth), WRONG);
      }
      // Iterations moved between segments keep the sum but break both proofs.
      const blob = Uint8Array.from(r.blob);
      blob[200 + 7]! ^= 0x02;
      rejects(() => verifyChiaRecord(r.seed, r.x, blob, r.T, r.depth), WRONG);
      // Segment iterations larger than T.
      const big = Uint8Array.from(r.blob);
      big[seg] = 0xff;
      rejects(() => verifyChiaRecord(r.seed, r.x, big, r.T, r.depth), ['VDF_INVALID_PROOF']);
    }
  });

  it('truncated, extended and wrong-depth blobs are malformed', () => {
    const r = classes[1]!;
    rejects(
      () => verifyChiaRecord(r.seed, r.x, r.blob.subarray(0, r.blob.length - 1), r.T, r.depth),
      ['VDF_MALFORMED'],
    );
    rejects(
      () => verifyChiaRecord(r.seed, r.x, new Uint8Array([...r.blob, 0]), r.T, r.depth),
      ['VDF_MALFORMED'],
    );
    rejects(() => verifyChiaRecord(r.seed, r.x, r.blob, r.T, r.depth - 1), ['VDF_MALFORMED']);
    rejects(() => verifyChiaRecord(r.seed, r.x, r.blob, r.T, 65), ['VDF_OUT_OF_RANGE']);
    rejects(() => verifyChiaRecord(r.seed, r.x, r.blob, 0n, r.depth), ['VDF_OUT_OF_RANGE']);
    rejects(() => verifyChiaRecord(r.seed, r.x, r.blob, 1n << 60n, r.depth), ['VDF_OUT_OF_RANGE']);
    const zeroB = Uint8Array.from(r.blob);
    zeroB.fill(0, 208, 241);
    rejects(() => verifyChiaRecord(r.seed, r.x, zeroB, r.T, r.depth), ['VDF_MALFORMED']);
  });

  it('a wrong input x or seed is rejected', () => {
    const r = classes[0]!;
    const other = classes[1]!;
    rejects(() => verifyChiaRecord(other.seed, r.x, r.blob, r.T, r.depth), WRONG);
    const x = new Uint8Array(100);
    x[0] = 0x04; // identity instead of the generator
    rejects(() => verifyChiaRecord(r.seed, x, r.blob, r.T, r.depth), WRONG);
  });

  it('verifyClass1024 takes output ‖ proof split at 100 bytes', () => {
    for (const r of [classes[0]!, classes[1]!]) {
      const T = Number(r.T);
      expect(() =>
        verifyClass1024(r.seed, T, r.x, r.blob.subarray(0, 100), r.blob.subarray(100)),
      ).not.toThrow();
      rejects(
        () => verifyClass1024(r.seed, T, r.x, r.blob.subarray(0, 99), r.blob.subarray(100)),
        ['VDF_MALFORMED'],
      );
      rejects(
        () => verifyClass1024(r.seed, T, r.x, r.blob.subarray(0, 100), r.blob.subarray(101)),
        ['VDF_MALFORMED'],
      );
      rejects(
        () => verifyClass1024(r.seed, T + 1, r.x, r.blob.subarray(0, 100), r.blob.subarray(100)),
        ['VDF_INVALID_PROOF'],
      );
    }
  });
});
