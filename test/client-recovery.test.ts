import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  beginClaim,
  ClientError,
  checkKeyIndependently,
  checkReceipt,
  decodeWif,
  type RecoveryFiles,
  recoverWallet,
  solveClaim,
  submitSolution,
  systemRandom,
  VaultClient,
  verifierFor,
  verifyBackup,
  type Wallet,
} from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import { CURVE_ORDER, encodePoint, Point, type Scheme, scalarToBytes } from '../vault/index.ts';
import { failure } from './support/client-failure.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-client-recovery-'));
let vault: LocalVault;
let counter = 0;

beforeAll(async () => {
  vault = await startLocalVault();
});
afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

function filesFor(name = `w${++counter}`): RecoveryFiles {
  return {
    claimStatePath: join(dir, `${name}.claim`),
    checkpointDir: join(dir, `${name}.vdf`),
    password: 'pw',
    scrypt: { n: 2 ** 10, r: 8, p: 1 },
  };
}

const client = () => new VaultClient([vault.url]);
const otherPoint = () => encodePoint(Point.BASE.multiply(12345n));

describe('backup verification against a real vault node (P6)', () => {
  it('accepts a good receipt, attested cluster keys and agreeing status', async () => {
    const { wallet } = await vault.deposit('additive');
    const report = await verifyBackup({ wallet, vault: client(), random: systemRandom });
    expect(report.insecure).toBe(true);
    expect(report.attestationKind).toBe('insecure-dev');
    expect(report.status.released).toBe(false);
    expect(report.receipt.logIndex).toBe(wallet.receipt.logIndex);
  });

  it('rejects a receipt for another Q2 or another policy', async () => {
    const { wallet } = await vault.deposit('additive');
    const otherQ2: Wallet = { ...wallet, q2: otherPoint() };
    expect(
      (await failure(verifyBackup({ wallet: otherQ2, vault: client(), random: systemRandom })))
        .code,
    ).toBe('BACKUP_INVALID');
    const otherPolicy: Wallet = { ...wallet, policy: { group: 'rsa2048', iterations: 65 } };
    expect(
      (await failure(verifyBackup({ wallet: otherPolicy, vault: client(), random: systemRandom })))
        .code,
    ).toBe('BACKUP_INVALID');
    expect(() => checkReceipt({ ...wallet, scheme: 'musig2' }, wallet.receipt)).toThrow(
      ClientError,
    );
    // A receipt from another wallet of the same cluster is signed, but not for this wallet.
    const { wallet: second } = await vault.deposit('additive');
    expect(() => checkReceipt(wallet, second.receipt)).toThrow(/does not verify/);
  });

  it('rejects an attestation that binds other cluster keys, or is signed by an unpinned key', async () => {
    const { wallet } = await vault.deposit('additive');
    const wrongBinding: Wallet = {
      ...wallet,
      cluster: { ...wallet.cluster, receiptKey: new Uint8Array(32).fill(7) },
    };
    const e1 = await failure(
      verifyBackup({ wallet: wrongBinding, vault: client(), random: systemRandom }),
    );
    expect(e1.code).toBe('ATTESTATION_INVALID');
    expect(e1.message).toMatch(/ATTESTATION_USER_DATA|user_data|binding/i);
    const unpinned: Wallet = {
      ...wallet,
      attestation: { kind: 'insecure-dev', devKeys: [new Uint8Array(32).fill(3)] },
    };
    expect(
      (await failure(verifyBackup({ wallet: unpinned, vault: client(), random: systemRandom })))
        .code,
    ).toBe('ATTESTATION_INVALID');
    const nitro: Wallet = {
      ...wallet,
      attestation: { kind: 'aws-nitro', pcrs: { 0: new Uint8Array(48) } },
    };
    // the SDK's own Nitro verifier refuses a dev document ...
    const unverifiable = await failure(
      verifyBackup({ wallet: nitro, vault: client(), random: systemRandom }),
    );
    expect(unverifiable.code).toBe('ATTESTATION_INVALID');
    expect(unverifiable.message).toMatch(/ATTESTATION_MALFORMED/);
    // ... and so does the one an app passes
    const notNitro = await failure(
      verifyBackup({
        wallet: nitro,
        vault: client(),
        random: systemRandom,
        verifier: verifierFor(nitro.attestation),
      }),
    );
    expect(notNitro.code).toBe('ATTESTATION_INVALID');
    expect(notNitro.message).toBe(unverifiable.message);
  });
});

describe('recovery against a real vault node', () => {
  const expected = (scheme: Scheme, x1: bigint, x2: bigint) =>
    scheme === 'additive'
      ? (x1 + x2) % CURVE_ORDER
      : scheme === 'ecdsa-2p-mult'
        ? (x1 * x2) % CURVE_ORDER
        : undefined;

  for (const scheme of ['additive', 'ecdsa-2p-mult', 'musig2'] as const) {
    it(`recovers a ${scheme} wallet: the key matches Q and OpenSSL verifies its signature`, async () => {
      const { wallet, x2 } = await vault.deposit(scheme);
      const files = filesFor();
      const events: string[] = [];
      const r = await recoverWallet({
        wallet,
        files,
        random: systemRandom,
        workers: 'never',
        onEvent: (e) => events.push(e.type),
      });
      expect(r.offline).toBe(false);
      expect(events).toEqual(
        expect.arrayContaining(['claim-sent', 'claim-committed', 'solved', 'released']),
      );
      expect(encodePoint(Point.BASE.multiply(BigInt(`0x${r.exported.hex}`)))).toEqual(wallet.q);
      const want = expected(scheme, BigInt(`0x${Buffer.from(wallet.x1).toString('hex')}`), x2);
      if (want !== undefined)
        expect(r.exported.hex).toBe(Buffer.from(scalarToBytes(want)).toString('hex'));
      expect(checkKeyIndependently(r.secretKey, wallet.q)).toEqual({
        opensslEcdsa: true,
        nobleVerifiesOpenssl: true,
        bip340: true,
      });
      expect(decodeWif(r.exported.wif)).toEqual(r.secretKey);
      expect(decodeWif(r.exported.wifTestnet)).toEqual(r.secretKey);
      expect(r.exported.wif).toMatch(/^[KL]/);
      expect(r.exported.wifTestnet).toMatch(/^c/);
      expect(r.exported.ethereumAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);

      // After the release nothing needs the network: a dead vault URL does not matter.
      const offline = await recoverWallet({
        wallet: { ...wallet, vaultUrls: ['http://127.0.0.1:9'] },
        files,
        random: systemRandom,
      });
      expect(offline.offline).toBe(true);
      expect(offline.exported).toEqual(r.exported);
    });
  }

  it('recovers a wallet whose time lock is in the class1024 group', async () => {
    const { wallet } = await vault.deposit('musig2', { group: 'class1024', iterations: 64 });
    const r = await recoverWallet({
      wallet,
      files: filesFor(),
      random: systemRandom,
      workers: 'never',
    });
    expect(encodePoint(Point.BASE.multiply(BigInt(`0x${r.exported.hex}`)))).toEqual(wallet.q);
  });

  it('a clock-gated wallet solved before its delay waits for the quorum clock, then releases', async () => {
    const delaySeconds = 3;
    const { wallet } = await vault.deposit('musig2', {
      group: 'rsa2048',
      iterations: 64,
      kind: 'clock-gated',
      delaySeconds,
    });
    const events: { type: string; seconds?: number }[] = [];
    const started = Date.now();
    const r = await recoverWallet({
      wallet,
      files: filesFor(),
      random: systemRandom,
      workers: 'never',
      watchIntervalMs: 500,
      onEvent: (e) => events.push(e),
    });
    expect(encodePoint(Point.BASE.multiply(BigInt(`0x${r.exported.hex}`)))).toEqual(wallet.q);
    // T = 64 solves at once: the vault said how long the delay still had to run, and the
    // release came only after it
    const waits = events.filter((e) => e.type === 'waiting-for-delay');
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]!.seconds).toBeGreaterThan(0);
    expect(waits[0]!.seconds).toBeLessThanOrEqual(delaySeconds + 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual((delaySeconds - 1) * 1000);
    expect(events.map((e) => e.type)).toContain('released');
  }, 60_000);

  it('gets a claim with a wrong x1 rejected by the vault', async () => {
    const { wallet } = await vault.deposit('additive');
    const forged: Wallet = { ...wallet, x1: scalarToBytes(424242n) };
    const err = await failure(
      beginClaim({ wallet: forged, vault: client(), files: filesFor(), random: systemRandom }),
    );
    expect(err.code).toBe('VAULT_ERROR');
    expect(err.vaultCode).toBe('BAD_CLAIM_PROOF');
    expect((await client().wallet(wallet.walletId)).liveClaim).toBeNull();
  });

  it('resumes a solve interrupted through its AbortSignal from the checkpoint directory', async () => {
    const { wallet } = await vault.deposit('additive', { group: 'rsa2048', iterations: 600_000 });
    const files = filesFor();
    const controller = new AbortController();
    const err = await failure(
      recoverWallet({
        wallet,
        files,
        random: systemRandom,
        workers: 'never',
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'solve-progress' && e.progress.done > 100_000) controller.abort();
        },
      }),
    );
    expect(err.code).toBe('SOLVE_ABORTED');
    let resumedFrom: number | undefined;
    let claimResumed: boolean | undefined;
    const r = await recoverWallet({
      wallet,
      files,
      random: systemRandom,
      workers: 'never',
      onEvent: (e) => {
        if (e.type === 'solve-progress') resumedFrom ??= e.progress.done;
        if (e.type === 'claim-sent') claimResumed = e.resumed;
      },
    });
    expect(claimResumed).toBeUndefined(); // the committed claim was reused, not re-sent
    expect(resumedFrom).toBeGreaterThan(100_000);
    expect(encodePoint(Point.BASE.multiply(BigInt(`0x${r.exported.hex}`)))).toEqual(wallet.q);
  }, 30_000);

  it('reports clearly when a ping during the solve cancels the claim', async () => {
    const { wallet } = await vault.deposit('additive', { group: 'rsa2048', iterations: 2_000_000 });
    let pinged: Promise<string[]> | undefined;
    const started = performance.now();
    const err = await failure(
      recoverWallet({
        wallet,
        files: filesFor(),
        random: systemRandom,
        workers: 'never',
        watchIntervalMs: 50,
        onEvent: (e) => {
          if (e.type === 'solve-progress' && e.progress.done > 0) pinged ??= vault.ping();
        },
      }),
    );
    expect(err.code).toBe('CLAIM_CANCELLED');
    expect(err.message).toMatch(/proof of life/);
    expect(await pinged).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(3_000); // stopped early, not after 2M squarings
  });

  it('reports a cancellation found at submission when nothing watched the claim', async () => {
    const { wallet } = await vault.deposit('additive');
    const v = client();
    const state = await beginClaim({ wallet, vault: v, files: filesFor(), random: systemRandom });
    const claim = state.claim!;
    const solution = await solveClaim({
      claim,
      checkpointDir: join(dir, 'cancel-submit'),
      workers: 'never',
    });
    expect(await vault.ping()).toContain(Buffer.from(claim.claimId).toString('hex'));
    const err = await failure(submitSolution({ vault: v, claim, solution }));
    expect(err.code).toBe('CLAIM_CANCELLED');
  });

  it('reports a claim voided by a vault restart mid-solve, and a new claim then recovers', async () => {
    const { wallet } = await vault.deposit('additive', { group: 'rsa2048', iterations: 300_000 });
    const files = filesFor();
    const controller = new AbortController();
    const interrupted = await failure(
      recoverWallet({
        wallet,
        files,
        random: systemRandom,
        workers: 'never',
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'solve-progress' && e.progress.done > 0) controller.abort();
        },
      }),
    );
    expect(interrupted.code).toBe('SOLVE_ABORTED');
    await vault.restart();
    const voided = await failure(
      recoverWallet({ wallet, files, random: systemRandom, workers: 'never' }),
    );
    expect(voided.code).toBe('CLAIM_CANCELLED');
    expect(voided.message).toMatch(/restarted/);
    const r = await recoverWallet({
      wallet,
      files,
      random: systemRandom,
      workers: 'never',
      fresh: true,
    });
    expect(encodePoint(Point.BASE.multiply(BigInt(`0x${r.exported.hex}`)))).toEqual(wallet.q);
  }, 30_000);

  it('--new-claim keeps a claim that is still live instead of orphaning its key', async () => {
    const { wallet } = await vault.deposit('additive');
    const files = filesFor();
    const first = await beginClaim({ wallet, vault: client(), files, random: systemRandom });
    let sent = false;
    const r = await recoverWallet({
      wallet,
      files,
      random: systemRandom,
      workers: 'never',
      fresh: true,
      onEvent: (e) => {
        if (e.type === 'claim-sent') sent = true;
      },
    });
    expect(sent).toBe(false);
    expect(r.claimId).toEqual(first.claim!.claimId);
  });
});
