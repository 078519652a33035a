/**
 * The VDF's portable face as browsers and React Native run it: no accelerator installed (BigInt
 * and the TypeScript class-group code only), on the vectors the other VDF tests use — proofs our
 * solver makes, the proof chiavdf made for our challenge (test/fixtures), Chia's published
 * records — with the same answers as Node's accelerated run, and every tampering refused.
 * test/sdk-build.test.ts holds the face's import graph to no Node module.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../test/support/processes.ts';
import { describeWithVectors, readVectorText } from '../test/support/vectors.ts';
import { accelerators, useAccelerators } from './accelerators.ts';
import { bigintToBytes, bytesToBigint, fromHexStrict } from './bytes.ts';
import { installNodeAccelerators } from './node-accelerators.ts';
import {
  deriveInput,
  encodeProofFile,
  type GroupName,
  groupParameter,
  parseProofFile,
  RSA2048_N,
  type VdfProofRecord,
  type VerifyOutcome,
  verifyProof,
} from './portable.ts';
import { solve } from './solver/solve.ts';

const hex = (h: string) => fromHexStrict(h)!;
const flip = (b: Uint8Array, i: number) => {
  const c = Uint8Array.from(b);
  c[i]! ^= 0x10;
  return c;
};

/** Runs `f` on Node's accelerators, then puts the portable state back. */
function onNode<T>(f: () => T): T {
  installNodeAccelerators();
  try {
    return f();
  } finally {
    useAccelerators({});
  }
}

/** Verifies with the portable code, checks Node's accelerated run answers the same. */
function verifyBoth(r: VdfProofRecord): VerifyOutcome {
  expect(accelerators()).toEqual({});
  const portable = verifyProof(r);
  expect(onNode(() => verifyProof(r))).toEqual(portable);
  return portable;
}

function tamperings(r: VdfProofRecord): [string, VdfProofRecord][] {
  return [
    ['a flipped byte of y', { ...r, output: flip(r.output, 40) }],
    ['a flipped byte of π', { ...r, proof: flip(r.proof, 60) }],
    ['y and π swapped', { ...r, output: r.proof.subarray(0, r.output.length), proof: r.output }],
    ['T + 1', { ...r, iterations: r.iterations + 1 }],
    ['T − 1', { ...r, iterations: r.iterations - 1 }],
    ['another seed', { ...r, seed: Uint8Array.from([...r.seed, 0]), input: undefined }],
  ];
}

const made: Partial<Record<GroupName, VdfProofRecord>> = {};

beforeAll(async () => {
  // Proofs made as `vigil vdf solve` makes them (Node, native where built)...
  for (const [group, iterations] of [
    ['rsa2048', 3000],
    ['class1024', 2000],
  ] as const) {
    made[group] = await solve({
      group,
      seed: new TextEncoder().encode(`portable ${group}`),
      iterations,
      workers: 'never',
    });
  }
  // ...checked with nothing but the portable code.
  useAccelerators({});
}, 120_000);
afterAll(() => installNodeAccelerators());

describe('the portable face, no accelerator installed', () => {
  for (const group of ['rsa2048', 'class1024'] as const) {
    it(`${group}: verifies our solver's proof and refuses every tampering`, () => {
      const r = made[group]!;
      expect(verifyBoth(r)).toEqual({ valid: true });
      expect(verifyBoth({ ...r, input: undefined })).toEqual({ valid: true });
      // the proof file as `vigil vdf solve --out` writes it, read back here
      expect(verifyBoth(parseProofFile(encodeProofFile(r)))).toEqual({ valid: true });
      for (const [what, bad] of tamperings(r)) {
        const outcome = verifyBoth(bad);
        expect(outcome.valid, what).toBe(false);
        if (!outcome.valid) expect(outcome.reason, what).not.toBe('');
      }
    });
  }

  it('derives x and the group parameter from a seed as the Node face does', () => {
    for (const seed of [
      hex('00ff01'),
      hex('d7560417642c724f3ee28856568b2f76'),
      new Uint8Array(64),
    ]) {
      for (const group of ['rsa2048', 'class1024'] as const) {
        const input = deriveInput(group, seed);
        const parameter = groupParameter(group, seed);
        expect(onNode(() => deriveInput(group, seed))).toEqual(input);
        expect(onNode(() => groupParameter(group, seed))).toBe(parameter);
      }
    }
    expect(groupParameter('rsa2048', hex('0102'))).toBe(RSA2048_N);
    const D = groupParameter('class1024', hex('0102'));
    expect(D < 0n && -D % 8n === 7n && (-D).toString(2).length === 1024).toBe(true);
    expect(deriveInput('class1024', hex('0102')).length).toBe(100);
    expect(bytesToBigint(deriveInput('rsa2048', hex('0102')))).toBeLessThan(RSA2048_N / 2n + 1n);
  });

  it('verifies the proof chiavdf made for our class1024 challenge (test/fixtures)', () => {
    const fixture = JSON.parse(
      readFileSync(join(repoRoot, 'test', 'fixtures', 'chiavdf-class1024-proof.json'), 'utf8'),
    ) as { seed: string; iterations: number; chiavdfOutput: string };
    const blob = hex(fixture.chiavdfOutput);
    const r: VdfProofRecord = {
      group: 'class1024',
      seed: hex(fixture.seed),
      iterations: fixture.iterations,
      output: blob.subarray(0, 100),
      proof: blob.subarray(100),
    };
    expect(verifyBoth(r)).toEqual({ valid: true });
    expect(verifyBoth({ ...r, proof: flip(r.proof, 7) }).valid).toBe(false);
    expect(verifyBoth({ ...r, iterations: r.iterations - 1 })).toMatchObject({
      valid: false,
      code: 'VDF_INVALID_PROOF',
    });
  });

  it('refuses malformed elements before any group work, with the reason', () => {
    const r = made.rsa2048!;
    const negated = bigintToBytes(RSA2048_N - bytesToBigint(r.output), 256);
    expect(verifyBoth({ ...r, output: negated })).toMatchObject({
      kind: 'malformed',
      code: 'VDF_MALFORMED',
    });
    expect(verifyBoth({ ...r, proof: r.proof.subarray(1) })).toMatchObject({ kind: 'malformed' });
    expect(verifyBoth({ ...r, iterations: 0 })).toMatchObject({ code: 'VDF_OUT_OF_RANGE' });
  });
});

describeWithVectors('chia', "Chia's published records (shared/vectors/chia), portable", () => {
  // A few records keep this fast on BigInt: the first of depth 0 and the first deeper ones.
  const lines = readVectorText('chia', 'vdf.txt').trim().split('\n');
  const records: VdfProofRecord[] = [];
  const depths = new Set<string>();
  for (let i = 0; i + 6 <= lines.length; i += 6) {
    const [seed, , x, blob, T, depth] = lines.slice(i, i + 6) as string[];
    if (depths.has(depth!) || depths.size >= 3) continue;
    depths.add(depth!);
    const bytes = hex(blob!);
    records.push({
      group: 'class1024',
      seed: hex(seed!),
      iterations: Number(T),
      input: hex(x!),
      output: bytes.subarray(0, 100),
      proof: bytes.subarray(100),
    });
  }

  it('verifies records of depth 0 and n-Wesolowski, and refuses them tampered', () => {
    expect(accelerators()).toEqual({});
    expect(records.map((r) => (r.proof.length - 100) / 141)).toEqual([0, 2, 4]);
    for (const r of records) {
      expect(verifyProof(r)).toEqual({ valid: true });
      expect(verifyProof({ ...r, output: flip(r.output, 50) }).valid).toBe(false);
      expect(verifyProof({ ...r, proof: flip(r.proof, r.proof.length - 30) }).valid).toBe(false);
    }
  }, 60_000);
});
