import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solve, type VdfProofRecord, verifyProof } from './index.ts';

describe('class1024 solve → verifyProof', () => {
  it('round-trips and rejects tampering (property, small T)', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Vault seeds are 32 bytes; some 1-byte seeds have no prime in their counter cycle (VDF_MALFORMED).
        fc.uint8Array({ minLength: 2, maxLength: 32 }),
        fc.integer({ min: 1, max: 300 }),
        fc.nat(99),
        fc.integer({ min: 1, max: 255 }),
        async (seed, T, at, mask) => {
          const r = await solve({ group: 'class1024', seed, iterations: T });
          expect(r.output).toHaveLength(100);
          expect(r.proof).toHaveLength(100);
          expect(verifyProof(r)).toEqual({ valid: true });
          const reject = (bad: VdfProofRecord) => expect(verifyProof(bad).valid).toBe(false);
          const flip = (b: Uint8Array) => {
            const c = Uint8Array.from(b);
            c[at]! ^= mask;
            return c;
          };
          reject({ ...r, output: flip(r.output) });
          reject({ ...r, proof: flip(r.proof) });
          reject({ ...r, iterations: T + 1 });
          if (T > 1) reject({ ...r, iterations: T - 1 });
        },
      ),
      { numRuns: 4 },
    );
  }, 30_000);
});
