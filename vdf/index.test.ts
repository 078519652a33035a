import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint, toHex } from './bytes.ts';
import {
  deriveInput,
  encodeProofFile,
  MAX_ITERATIONS,
  parseProofFile,
  solve,
  type VdfProofRecord,
  verifyProof,
} from './index.ts';
import { N } from './rsa2048/modulus.ts';

const flip = (b: Uint8Array, i: number, mask = 1) => {
  const c = Uint8Array.from(b);
  c[i]! ^= mask;
  return c;
};

describe('rsa2048 solve → verifyProof', () => {
  it('round-trips and rejects every tampering (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.nat(255),
        fc.integer({ min: 1, max: 255 }),
        async (seed, T, at, mask) => {
          const r = await solve({ group: 'rsa2048', seed, iterations: T });
          expect(verifyProof(r)).toEqual({ valid: true });
          expect(verifyProof({ ...r, input: undefined })).toEqual({ valid: true });
          expect(r.input).toEqual(deriveInput('rsa2048', seed));
          const rejected = (bad: VdfProofRecord) => {
            const out = verifyProof(bad);
            expect(out.valid).toBe(false);
            return out.valid ? undefined : out.kind;
          };
          // A flipped byte either breaks canonical form (malformed) or the proof (invalid).
          expect(rejected({ ...r, output: flip(r.output, at, mask) })).toMatch(/malformed|invalid/);
          expect(rejected({ ...r, proof: flip(r.proof, at, mask) })).toMatch(/malformed|invalid/);
          expect(rejected({ ...r, iterations: T + 1 })).toBe('invalid');
          if (T > 1) expect(rejected({ ...r, iterations: T - 1 })).toBe('invalid');
          expect(rejected({ ...r, seed: Uint8Array.from([...seed, 0]) })).toBe('invalid');
        },
      ),
      { numRuns: 12 },
    );
  });

  it('says why: non-canonical N − v, zero, v ≥ N and bad lengths are malformed', async () => {
    const r = await solve({ group: 'rsa2048', seed: new Uint8Array([1, 2]), iterations: 500 });
    const neg = (b: Uint8Array) => bigintToBytes(N - bytesToBigint(b), 256);
    for (const bad of [
      { ...r, output: neg(r.output) },
      { ...r, proof: neg(r.proof) },
      { ...r, input: neg(r.input!) },
      { ...r, output: new Uint8Array(256) },
      { ...r, proof: bigintToBytes(N, 256) },
      { ...r, output: bigintToBytes(N + 3n, 256) },
      { ...r, proof: r.proof.subarray(1) },
    ]) {
      const out = verifyProof(bad);
      expect(out).toMatchObject({ valid: false, kind: 'malformed', code: 'VDF_MALFORMED' });
    }
    expect(verifyProof({ ...r, iterations: 0 })).toMatchObject({
      kind: 'malformed',
      code: 'VDF_OUT_OF_RANGE',
    });
    expect(verifyProof({ ...r, iterations: MAX_ITERATIONS + 1 })).toMatchObject({
      code: 'VDF_OUT_OF_RANGE',
    });
    expect(verifyProof(r, { maxIterations: 499 })).toMatchObject({ code: 'VDF_OUT_OF_RANGE' });
    expect(verifyProof({ ...r, seed: new Uint8Array() })).toMatchObject({ kind: 'malformed' });
    const swapped = verifyProof({ ...r, output: r.proof, proof: r.output });
    expect(swapped).toMatchObject({ valid: false, kind: 'invalid', code: 'VDF_INVALID_PROOF' });
  });
});

describe('proof file', () => {
  it('round-trips and parses strictly', async () => {
    const r = await solve({ group: 'rsa2048', seed: new Uint8Array([9]), iterations: 100 });
    const text = encodeProofFile(r);
    expect(parseProofFile(text)).toEqual(r);
    const obj = JSON.parse(text);
    const bad = (o: unknown) => {
      try {
        parseProofFile(typeof o === 'string' ? o : JSON.stringify(o));
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'accepted';
    };
    expect(bad({ ...obj, extra: 1 })).toBe('VDF_MALFORMED');
    expect(bad({ ...obj, output: obj.output.toUpperCase() })).toBe('VDF_MALFORMED');
    expect(bad({ ...obj, output: obj.output.slice(2) })).toBe('VDF_MALFORMED');
    expect(bad({ ...obj, proof: `${obj.proof}0` })).toBe('VDF_MALFORMED');
    expect(bad({ ...obj, iterations: '100' })).toBe('VDF_OUT_OF_RANGE');
    expect(bad({ ...obj, iterations: 1.5 })).toBe('VDF_OUT_OF_RANGE');
    expect(bad({ ...obj, group: 'rsa1024' })).toBe('VDF_UNKNOWN_GROUP');
    expect(bad({ ...obj, seed: '' })).toBe('VDF_MALFORMED');
    expect(bad('[1]')).toBe('VDF_MALFORMED');
    expect(bad('{')).toBe('VDF_MALFORMED');
    expect(bad(' '.repeat(70_000))).toBe('VDF_OUT_OF_RANGE');
    const { input: _drop, ...noInput } = obj;
    expect(parseProofFile(JSON.stringify(noInput)).input).toBeUndefined();
    expect(toHex(parseProofFile(JSON.stringify(noInput)).output)).toBe(obj.output);
  });
});
