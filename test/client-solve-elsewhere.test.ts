/**
 * Solving elsewhere with real processes: `vigil recover --export-challenge` claims and writes the
 * challenge; `vigil vdf solve --challenge` (another process, as on a desktop) writes the proof;
 * `vigil recover --proof` checks it, submits it and rebuilds the key. A proof for another
 * challenge is refused before it is sent and leaves the claim live. chiavdf's output (a proof we
 * made with chiavdf for our own challenge) converts with `vigil vdf from-chiavdf`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  challengeFor,
  encodeChallengeFile,
  loadClaimState,
  parseChallengeFile,
  saveWallet,
  systemRandom,
} from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import { encodePoint, Point } from '../vault/index.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-solve-elsewhere-'));
const passwordFile = join(dir, 'password');
const started: VigilProcess[] = [];
let vault: LocalVault;

beforeAll(async () => {
  vault = await startLocalVault();
  writeFileSync(passwordFile, 'hunter22\n');
}, 60_000);
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await vault?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function vigil(...args: string[]): Promise<{ code: number | null; output: string }> {
  const p = startVigil(args);
  started.push(p);
  return { code: await p.exited, output: p.output() };
}

const lastJson = (output: string) =>
  JSON.parse(
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1)!,
  ) as Record<string, unknown>;

describe('vigil recover --export-challenge / vdf solve --challenge / recover --proof', () => {
  for (const group of ['rsa2048', 'class1024'] as const) {
    it(`recovers the key from a proof made by another process (${group})`, async () => {
      const { wallet } = await vault.deposit('additive', { group, iterations: 256 });
      const path = join(dir, `${group}.vigil`);
      await saveWallet(path, wallet, 'hunter22', {
        random: systemRandom,
        scrypt: { n: 2 ** 10, r: 8, p: 1 },
      });
      const user = ['--wallet', path, '--password-file', passwordFile];
      const challengePath = join(dir, `${group}-challenge.json`);
      const exported = await vigil('recover', ...user, '--export-challenge', challengePath);
      expect(exported.code, exported.output).toBe(0);
      expect(exported.output).toContain(`vigil vdf solve --challenge ${challengePath}`);
      const challenge = parseChallengeFile(readFileSync(challengePath, 'utf8'));
      const state = await loadClaimState(`${path}.claim`, 'hunter22');
      expect(challenge.claimId).toEqual(state?.claim?.claimId);
      expect(challenge.seed).toEqual(state?.claim?.seed);
      expect(challenge.iterations).toBe(256);
      expect(challenge.vault.urls).toEqual([vault.url]);

      // Exporting again resumes the same claim: the same challenge.
      const again = await vigil('recover', ...user, '--export-challenge', challengePath, '--json');
      expect(again.code, again.output).toBe(0);
      expect(parseChallengeFile(readFileSync(challengePath, 'utf8'))).toEqual(challenge);

      // A proof of another challenge is refused here, and the claim stays live.
      const wrongPath = join(dir, `${group}-wrong.json`);
      const wrong = await vigil(
        'vdf',
        'solve',
        '--group',
        group,
        '--seed',
        'ab'.repeat(32),
        '--iterations',
        '256',
        '--out',
        wrongPath,
      );
      expect(wrong.code, wrong.output).toBe(0);
      const refused = await vigil('recover', ...user, '--proof', wrongPath);
      expect(refused.code, refused.output).toBe(1);
      expect(refused.output).toMatch(/the proof is for another challenge/);
      expect((await vault.node.machine.claim(challenge.claimId))?.status).toBe('live');

      const proofPath = join(dir, `${group}-proof.json`);
      const solved = await vigil('vdf', 'solve', '--challenge', challengePath, '--out', proofPath);
      expect(solved.code, solved.output).toBe(0);
      const recovered = await vigil('recover', ...user, '--proof', proofPath, '--json');
      expect(recovered.code, recovered.output).toBe(0);
      const key = lastJson(recovered.output);
      expect(key.claimId).toBe(Buffer.from(challenge.claimId).toString('hex'));
      expect(encodePoint(Point.BASE.multiply(BigInt(`0x${key.hex}`)))).toEqual(wallet.q);
    }, 240_000);
  }

  it('exits 2 on --proof with --new-claim, on both modes at once, and on a malformed proof file', async () => {
    const { wallet } = await vault.deposit('additive', { group: 'rsa2048', iterations: 64 });
    const path = join(dir, 'usage.vigil');
    await saveWallet(path, wallet, 'hunter22', {
      random: systemRandom,
      scrypt: { n: 2 ** 10, r: 8, p: 1 },
    });
    const user = ['--wallet', path, '--password-file', passwordFile];
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"group":"rsa2048"}');
    for (const args of [
      ['--proof', junk, '--new-claim'],
      ['--proof', junk, '--export-challenge', join(dir, 'c.json')],
      ['--proof', junk],
    ]) {
      const r = await vigil('recover', ...user, ...args);
      expect(r.code, `${args.join(' ')}: ${r.output}`).toBe(2);
    }
    // --proof before any claim: says to export the challenge first
    const proof = join(dir, 'any-proof.json');
    expect(
      (
        await vigil(
          'vdf',
          'solve',
          '--group',
          'rsa2048',
          '--seed',
          'cd',
          '--iterations',
          '64',
          '--out',
          proof,
        )
      ).code,
    ).toBe(0);
    const early = await vigil('recover', ...user, '--proof', proof);
    expect(early.code, early.output).toBe(1);
    expect(early.output).toMatch(/--export-challenge/);
  }, 120_000);
});

describe('vigil vdf from-chiavdf', () => {
  it("turns chiavdf's output into a proof file that vdf verify accepts, and refuses a bad one", async () => {
    const fx = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures', 'chiavdf-class1024-proof.json'), 'utf8'),
    );
    const challengePath = join(dir, 'chia-challenge.json');
    writeFileSync(
      challengePath,
      encodeChallengeFile(
        challengeFor({
          claim: {
            claimId: new Uint8Array(32).fill(7),
            seed: new Uint8Array(Buffer.from(fx.seed, 'hex')),
            group: 'class1024',
            iterations: fx.iterations,
            logIndex: 1,
          },
          walletId: new Uint8Array(32).fill(9),
          clusterId: new Uint8Array(32).fill(3),
          vaultUrls: ['http://127.0.0.1:4000'],
        }),
      ),
    );
    const outputPath = join(dir, 'chiavdf-output.hex');
    writeFileSync(outputPath, `${fx.chiavdfOutput}\n`);
    const proofPath = join(dir, 'chia-proof.json');
    const convert = () =>
      vigil(
        'vdf',
        'from-chiavdf',
        '--challenge',
        challengePath,
        '--chiavdf-output',
        outputPath,
        '--out',
        proofPath,
      );
    const converted = await convert();
    expect(converted.code, converted.output).toBe(0);
    expect(converted.output).toMatch(/valid: wrote .* \(class1024, 100000 squarings, depth 0\)/);
    const verified = await vigil('vdf', 'verify', proofPath);
    expect(verified.code, verified.output).toBe(0);

    // the raw bytes are accepted too; a flipped byte is not
    const raw = Buffer.from(fx.chiavdfOutput, 'hex');
    writeFileSync(outputPath, raw);
    expect((await convert()).code).toBe(0);
    raw[120] = (raw[120] ?? 0) ^ 1;
    writeFileSync(outputPath, raw.toString('hex'));
    const bad = await convert();
    expect(bad.code, bad.output).toBe(1);
    expect(bad.output).toMatch(/does not verify/);
  }, 120_000);
});
