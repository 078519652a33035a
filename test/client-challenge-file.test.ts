/**
 * Solving elsewhere: the challenge file round-trips and is parsed strictly (every derived field
 * recomputed), and chiavdf's output converts to a proof Vigil accepts: chiavdf's own published
 * records (shared/vectors/chia, skipped with a reason where absent) and a proof we made with
 * chiavdf's Python binding for our own challenge (test/fixtures/chiavdf-class1024-proof.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ChallengeFile,
  type ClientError,
  challengeFor,
  checkProofFile,
  checkProofForClaim,
  encodeChallengeFile,
  parseChallengeFile,
  proofFromChiavdf,
} from '../client-lib/index.ts';
import { encodeProofFile, MAX_PROOF_FILE_BYTES } from '../vdf/index.ts';
import { describeWithVectors, readVectorText } from './support/vectors.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const GENERATOR = `08${'00'.repeat(99)}`;

function classChallenge(seed: Uint8Array, iterations: number): ChallengeFile {
  return challengeFor({
    claim: {
      claimId: new Uint8Array(32).fill(7),
      seed,
      group: 'class1024',
      iterations,
      logIndex: 5,
    },
    walletId: new Uint8Array(32).fill(9),
    clusterId: new Uint8Array(32).fill(3),
    vaultUrls: ['http://127.0.0.1:4000', 'https://vault.example'],
  });
}

const claimOf = (c: ChallengeFile) => ({
  claimId: c.claimId,
  seed: c.seed,
  group: c.group,
  iterations: c.iterations,
  logIndex: 5,
});

describe('the challenge file', () => {
  const seed = new Uint8Array(32).fill(0x5a);

  it('round-trips for both groups, with the group parameter a solver can check', () => {
    for (const group of ['class1024', 'rsa2048'] as const) {
      const c = challengeFor({
        claim: { claimId: new Uint8Array(32).fill(1), seed, group, iterations: 1000, logIndex: 1 },
        walletId: new Uint8Array(32).fill(2),
        clusterId: new Uint8Array(32).fill(3),
        vaultUrls: ['http://127.0.0.1:4000'],
      });
      const text = encodeChallengeFile(c);
      expect(parseChallengeFile(text)).toEqual(c);
      const o = JSON.parse(text);
      if (group === 'class1024') {
        expect(o.discriminant).toMatch(/^-\d{300,}$/);
        expect(o.input).toBe(GENERATOR);
        expect(o.modulus).toBeUndefined();
      } else {
        expect(o.modulus).toMatch(
          /^c7970ceedcc3b0754490201a7aa613cd73911081c790f5f1a8726f463550bb5b/,
        );
        expect(o.input).toHaveLength(512);
      }
    }
  });

  it('refuses anything that does not match its seed, unknown keys, bad sizes', () => {
    const good = JSON.parse(encodeChallengeFile(classChallenge(seed, 1000)));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, discriminant: '-7' }, /discriminant/],
      [{ ...good, input: `0a${'00'.repeat(99)}` }, /input/],
      [{ ...good, modulus: 'ff' }, /modulus/],
      [{ ...good, extra: 1 }, /unknown key "extra"/],
      [{ ...good, format: 'v0' }, /format/],
      [{ ...good, iterations: 0 }, /iterations/],
      [{ ...good, iterations: 2 ** 49 }, /iterations/],
      [{ ...good, claimId: 'ab' }, /claimId/],
      [{ ...good, seed: 'XY' }, /seed/],
      [{ ...good, vault: { ...good.vault, urls: ['http://a/b'] } }, /vault\.urls/],
      [{ ...good, vault: { ...good.vault, token: 'x' } }, /vault/],
    ];
    for (const [o, why] of cases) {
      expect(() => parseChallengeFile(JSON.stringify(o)), JSON.stringify(why)).toThrow(why);
    }
    expect(() => parseChallengeFile('x'.repeat(17 * 1024))).toThrow(/larger than/);
    expect(() => parseChallengeFile('[1]')).toThrow(/object/);
  });
});

describe('a proof made with chiavdf', () => {
  it('converts and verifies: our own challenge, proved with chiavdf', () => {
    const fx = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures', 'chiavdf-class1024-proof.json'), 'utf8'),
    );
    const c = classChallenge(hex(fx.seed), fx.iterations);
    const record = proofFromChiavdf(c, hex(fx.chiavdfOutput));
    expect(record.output).toEqual(hex(fx.chiavdfOutput).slice(0, 100));
    expect(record.proof).toHaveLength(100);

    const flipped = hex(fx.chiavdfOutput);
    flipped[150] = (flipped[150] ?? 0) ^ 1;
    expect(() => proofFromChiavdf(c, flipped)).toThrow(/does not verify/);
    expect(() => proofFromChiavdf(c, hex(fx.chiavdfOutput).slice(0, 199))).toThrow(/200 \+ 141/);
    expect(() =>
      proofFromChiavdf(classChallenge(hex(fx.seed), fx.iterations + 1), hex(fx.chiavdfOutput)),
    ).toThrow(/does not verify/);
    // a proof for another claim's challenge is named as such, before any maths
    expect(() =>
      checkProofForClaim(
        claimOf(classChallenge(new Uint8Array(32).fill(1), fx.iterations)),
        record,
      ),
    ).toThrow(/another challenge/);
  });

  it('checkProofFile: the proof file from `vdf from-chiavdf` for this claim, or a named refusal', () => {
    const fx = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures', 'chiavdf-class1024-proof.json'), 'utf8'),
    );
    const c = classChallenge(hex(fx.seed), fx.iterations);
    const text = encodeProofFile(proofFromChiavdf(c, hex(fx.chiavdfOutput)));
    expect(checkProofFile(claimOf(c), text).output).toEqual(hex(fx.chiavdfOutput).slice(0, 100));
    const refusal = (claim: ReturnType<typeof claimOf>, t: string) => {
      try {
        checkProofFile(claim, t);
        return 'accepted';
      } catch (err) {
        return `${(err as ClientError).code}: ${(err as Error).message}`;
      }
    };
    expect(refusal(claimOf(c), '{"group": "rsa2048"')).toBe(
      'PROOF_INVALID: proof file is not valid JSON (VDF_MALFORMED)',
    );
    expect(refusal(claimOf(c), ' '.repeat(MAX_PROOF_FILE_BYTES + 1))).toMatch(
      /^PROOF_INVALID: proof file larger than .* \(VDF_OUT_OF_RANGE\)$/,
    );
    expect(refusal(claimOf(c), text.replace(/"output": "../, '"output": "ff'))).toMatch(
      /^PROOF_INVALID: the proof does not verify: /,
    );
    const other = claimOf(classChallenge(hex(fx.seed), fx.iterations + 1));
    expect(refusal(other, text)).toMatch(/^PROOF_MISMATCH: the proof is for another challenge/);
  });
});

describeWithVectors('chia', "chiavdf's published proofs (shared/vectors/chia)", () => {
  it('converts the records whose input is the generator, at depths 0 and 2', () => {
    const lines = readVectorText('chia', 'vdf.txt').trim().split('\n');
    const depths = new Set<number>();
    for (let i = 0; i + 6 <= lines.length && depths.size < 2; i += 6) {
      const [seedHex, bits, x, blob, t, depth] = lines.slice(i, i + 6) as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      if (bits !== '1024' || x !== GENERATOR || depths.has(Number(depth))) continue;
      if (Number(depth) !== 0 && Number(depth) !== 2) continue;
      const c = classChallenge(hex(seedHex), Number(t));
      const record = proofFromChiavdf(c, hex(blob));
      expect(record.proof).toHaveLength(100 + 141 * Number(depth));
      depths.add(Number(depth));
    }
    expect([...depths].sort()).toEqual([0, 2]);
  });
});
