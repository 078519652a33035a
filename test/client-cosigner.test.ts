/**
 * The story with a real cosigner (in-process, real HTTP on loopback) and a real vault node:
 * create a wallet (two-party keygen; the cosigner deposits x2), verify the backup with the client's
 * own attestation pin, sign with the cosigner (ECDSA checked by OpenSSL, MuSig2 by BIP-340), then
 * the cosigner dies and the user recovers a key that signs on its own.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientError,
  checkKeyIndependently,
  createWallet,
  loadWallet,
  makeEcdsaSetup,
  recoverWallet,
  refreshWallet,
  saveWallet,
  signEcdsa,
  signSchnorr,
  systemRandom,
  VaultClient,
  type Wallet,
  walletToJson,
} from '../client-lib/index.ts';
import { type LocalVault, startLocalVault } from '../client-lib/local-vault.test-support.ts';
import { type Cosigner, openCosigner } from '../cosigner/index.ts';
import { DevAttestationVerifier, encodePoint, KeyFileSealer, Point } from '../vault/index.ts';
import { runCli } from './support/cli.ts';
import { startVigil } from './support/processes.ts';

/** A loopback URL where nothing listens (a port just released). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-client-cosigner-'));
const securityPolicy = { paillierBits: 2048, ringPedersenBits: 1024 };
const policy = { group: 'rsa2048' as const, iterations: 64 };
const fast = { random: systemRandom, scrypt: { n: 2 ** 10, r: 8, p: 1 } };
let vault: LocalVault;
let cosigner: Cosigner;
let cosignerUrl: string;

beforeAll(async () => {
  vault = await startLocalVault();
  cosigner = await openCosigner({
    dataDir: join(dir, 'cosigner'),
    sealer: new KeyFileSealer({ path: join(dir, 'cosigner.key') }),
    vaultUrl: vault.url,
    verifier: new DevAttestationVerifier({
      insecureDevAttestation: true,
      trustedKeys: [vault.devKey],
      warn: () => {},
    }),
    tenant: 'provider',
    pingIntervalMs: 0,
    limits: {
      groups: ['rsa2048', 'class1024'],
      kinds: ['strict', 'clock-gated'],
      minIterations: 16,
      maxIterations: 5000,
    },
    poolTarget: 1,
    securityPolicy,
  });
  const t = cosigner.tenantKeys;
  await vault.registerTenant(t.tenant, t.tenantKey, t.pingKey);
  await cosigner.app.listen({ host: '127.0.0.1', port: 0 });
  cosignerUrl = `http://127.0.0.1:${(cosigner.app.server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await cosigner?.close();
  await vault?.close();
  rmSync(dir, { recursive: true, force: true });
});

function opensslVerifies(q: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  const raw = Point.fromBytes(q).toBytes(false);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'secp256k1', x: b64(raw.subarray(1, 33)), y: b64(raw.subarray(33)) },
    format: 'jwk',
  });
  // OpenSSL hashes the message itself, so hand it the preimage of `hash`.
  return verify(
    'sha256',
    preimages.get(Buffer.from(hash).toString('hex'))!,
    { key, dsaEncoding: 'ieee-p1363' },
    signature,
  );
}
const preimages = new Map<string, Buffer>();
function hashOf(text: string): Uint8Array {
  const m = Buffer.from(text);
  const h = sha256(m);
  preimages.set(Buffer.from(h).toString('hex'), m);
  return h;
}

describe('client-lib with a real cosigner', () => {
  let ecdsaWallet: Wallet;
  let musigWallet: Wallet;

  it('creates a two-party ECDSA wallet, verifies the backup, and keeps it encrypted', async () => {
    const setup = makeEcdsaSetup(1024, systemRandom);
    ecdsaWallet = await createWallet({
      cosignerUrl,
      kind: 'ecdsa-2p',
      policy,
      attestation: { kind: 'insecure-dev', devKeys: [vault.devKey] },
      random: systemRandom,
      setup,
      securityPolicy,
    });
    expect(ecdsaWallet.scheme).toBe('additive');
    const path = join(dir, 'ecdsa.vigil');
    await saveWallet(path, ecdsaWallet, 'pw', fast);
    expect(walletToJson(await loadWallet(path, 'pw'))).toEqual(walletToJson(ecdsaWallet));
  }, 120_000);

  it('creates a wallet under a clock-gated policy: the kind and delay reach the vault and the receipt', async () => {
    const gated = { ...policy, kind: 'clock-gated' as const, delaySeconds: 60 };
    const w = await createWallet({
      cosignerUrl,
      kind: 'musig2',
      policy: gated,
      attestation: { kind: 'insecure-dev', devKeys: [vault.devKey] },
      random: systemRandom,
    });
    expect(w.policy).toEqual(gated);
    expect(w.receipt.policy).toEqual(gated); // signed by the cluster, checked by createWallet
    const status = await new VaultClient([vault.url]).wallet(w.walletId);
    expect(status.policy).toEqual(gated);
    // the provider offers what it offers: a delay without the kind is refused before keygen
    await expect(
      createWallet({
        cosignerUrl,
        kind: 'musig2',
        policy: { ...policy, delaySeconds: 60 },
        attestation: { kind: 'insecure-dev', devKeys: [vault.devKey] },
        random: systemRandom,
      }),
    ).rejects.toMatchObject({ vaultCode: 'COSIGNER_POLICY_REJECTED' });
  }, 120_000);

  it('refuses a wallet whose vault attestation is not signed by the pinned key', async () => {
    await expect(
      createWallet({
        cosignerUrl,
        kind: 'musig2',
        policy,
        attestation: { kind: 'insecure-dev', devKeys: [new Uint8Array(randomBytes(32))] },
        random: systemRandom,
      }),
    ).rejects.toMatchObject({ code: 'ATTESTATION_INVALID' });
  });

  it('signs ECDSA with the cosigner; OpenSSL verifies under Q', async () => {
    const hash = hashOf('pay 1 BTC to bob');
    const { signature } = await signEcdsa({
      wallet: ecdsaWallet,
      messageHash: hash,
      random: systemRandom,
    });
    expect(opensslVerifies(ecdsaWallet.q, hash, signature)).toBe(true);
  }, 60_000);

  it('refreshes the ECDSA shares: same Q, the backup follows, signing still works', async () => {
    const before = ecdsaWallet;
    const after = await refreshWallet({ wallet: before, random: systemRandom, securityPolicy });
    expect(after.q).toEqual(before.q);
    expect(after.q2).not.toEqual(before.q2);
    expect(after.walletId).not.toEqual(before.walletId);
    const old = await new VaultClient([vault.url])
      .wallet(before.walletId)
      .catch((e: ClientError) => e.vaultCode);
    expect(old).toBe('WALLET_NOT_FOUND');
    const path = join(dir, 'ecdsa.vigil');
    await saveWallet(path, after, 'pw', fast);
    ecdsaWallet = await loadWallet(path, 'pw');
    const hash = hashOf('after refresh');
    const { signature } = await signEcdsa({
      wallet: ecdsaWallet,
      messageHash: hash,
      random: systemRandom,
    });
    expect(opensslVerifies(ecdsaWallet.q, hash, signature)).toBe(true);
  }, 60_000);

  it('creates a MuSig2 wallet and signs BIP-340 with the cosigner', async () => {
    musigWallet = await createWallet({
      cosignerUrl,
      kind: 'musig2',
      policy,
      attestation: { kind: 'insecure-dev', devKeys: [vault.devKey] },
      random: systemRandom,
    });
    expect(musigWallet.scheme).toBe('musig2');
    const sig = await signSchnorr({
      wallet: musigWallet,
      message: sha256(Buffer.from('taproot')),
      random: systemRandom,
    });
    expect(sig).toHaveLength(64);
  });

  it('vigil wallet create / sign / backup-status against the cosigner (exit codes)', async () => {
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, 'pw\n');
    const devKey = Buffer.from(vault.devKey).toString('hex');
    const base = [
      '--cosigner',
      cosignerUrl,
      '--iterations',
      '64',
      '--password-file',
      pwFile,
      '--scrypt-log-n',
      '10',
    ];
    const noTrust = await runCli('wallet', 'create', ...base, '--out', join(dir, 'x.vigil'));
    expect(noTrust.code).toBe(2);
    expect(noTrust.stderr).toMatch(/--pcr|--dev-attestation-key/);

    for (const scheme of ['musig2', 'ecdsa-2p'] as const) {
      const out = join(dir, `cli-${scheme}.vigil`);
      const args = [...base, '--out', out, '--scheme', scheme, '--dev-attestation-key', devKey];
      const created = await runCli(
        'wallet',
        'create',
        ...args,
        '--ring-pedersen-bits',
        '1024',
        '--json',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toMatch(/INSECURE/);
      const info = JSON.parse(created.stdout);
      expect((await runCli('wallet', 'create', ...args)).code).toBe(2); // never overwrites

      const signed = await runCli(
        'wallet',
        'sign',
        '--wallet',
        out,
        '--password-file',
        pwFile,
        '--message',
        'hi',
        '--json',
      );
      expect(signed.code, signed.stderr).toBe(0);
      const s = JSON.parse(signed.stdout);
      const digest = sha256(Buffer.from('hi'));
      expect(s.hash).toBe(Buffer.from(digest).toString('hex'));
      const sig = Buffer.from(s.signature, 'hex');
      const q = Buffer.from(info.publicKey, 'hex');
      if (scheme === 'musig2') expect(schnorr.verify(sig, digest, q.subarray(1))).toBe(true);
      else {
        preimages.set(s.hash, Buffer.from('hi'));
        expect(opensslVerifies(q, digest, sig)).toBe(true);
      }
      if (scheme === 'ecdsa-2p') {
        const refreshed = await runCli(
          'wallet',
          'refresh',
          '--wallet',
          out,
          '--password-file',
          pwFile,
        );
        expect(refreshed.code, refreshed.stderr).toBe(0);
        expect(refreshed.stdout).toContain(info.publicKey);
        const again = await runCli(
          'wallet',
          'sign',
          '--wallet',
          out,
          '--password-file',
          pwFile,
          '--message',
          'hi',
          '--json',
        );
        expect(again.code, again.stderr).toBe(0);
        expect(
          opensslVerifies(q, digest, Buffer.from(JSON.parse(again.stdout).signature, 'hex')),
        ).toBe(true);
      } else {
        expect(
          (await runCli('wallet', 'refresh', '--wallet', out, '--password-file', pwFile)).code,
        ).toBe(1);
      }
      const status = await runCli(
        'wallet',
        'backup-status',
        '--wallet',
        out,
        '--password-file',
        pwFile,
      );
      expect(status.code, status.stderr).toBe(0);
    }
    const badHash = await runCli(
      'wallet',
      'sign',
      '--wallet',
      join(dir, 'cli-musig2.vigil'),
      '--password-file',
      pwFile,
      '--hash',
      'abcd',
    );
    expect(badHash.code).toBe(2);
  }, 120_000);

  it('vigil wallet create checks the cosigner and the policy before generating safe primes', async () => {
    const pwFile = join(dir, 'pw-create');
    writeFileSync(pwFile, 'pw\n');
    const devKey = Buffer.from(vault.devKey).toString('hex');
    const create = (cosigner: string, iterations: string) =>
      startVigil([
        'wallet',
        'create',
        '--cosigner',
        cosigner,
        '--iterations',
        iterations,
        '--out',
        join(dir, `never-${iterations}.vigil`),
        '--dev-attestation-key',
        devKey,
        '--password-file',
        pwFile,
        '--scrypt-log-n',
        '10',
      ]);
    // The cosigner's limits stop at 5000 squarings; the refusal comes before any safe prime.
    const refused = create(cosignerUrl, '1000000');
    expect(await refused.exited, refused.output()).toBe(1);
    expect(refused.output()).toMatch(
      new RegExp(`cosigner at ${cosignerUrl}: registration failed: COSIGNER_POLICY_REJECTED`),
    );
    expect(refused.output()).not.toMatch(/safe primes/);
    // The password ("pw") is weak: said before the cosigner is asked, without echoing it.
    expect(refused.output()).toMatch(
      /WARNING: this password is easy to guess \(strength [0-2] of 4\)/,
    );
    const down = create(await deadUrl(), '64');
    expect(await down.exited, down.output()).toBe(1);
    expect(down.output()).toMatch(
      /cannot reach the cosigner at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/,
    );
    expect(down.output()).not.toMatch(/safe primes|vigil recover/);
  }, 60_000);

  it('recovers both keys after the cosigner is gone; the keys sign on their own', async () => {
    await cosigner.close();
    for (const [name, w] of [
      ['ecdsa', ecdsaWallet],
      ['musig', musigWallet],
    ] as const) {
      const r = await recoverWallet({
        wallet: w,
        files: {
          claimStatePath: join(dir, `${name}.claim`),
          checkpointDir: join(dir, `${name}.vdf`),
          password: 'pw',
          scrypt: fast.scrypt,
        },
        random: systemRandom,
        workers: 'never',
      });
      expect(encodePoint(Point.BASE.multiply(BigInt(`0x${r.exported.hex}`)))).toEqual(w.q);
      expect(checkKeyIndependently(r.secretKey, w.q).opensslEcdsa).toBe(true);
    }
  }, 60_000);

  it('vigil wallet sign names the cosigner that is gone and points to vigil recover', async () => {
    const path = join(dir, 'gone.vigil');
    await saveWallet(path, musigWallet, 'pw', fast);
    const sign = startVigil(['wallet', 'sign', '--wallet', path, '--message', 'hello'], {
      VIGIL_WALLET_PASSWORD: 'pw',
    });
    expect(await sign.exited, sign.output()).toBe(1);
    expect(sign.output()).toMatch(
      new RegExp(`cannot reach the cosigner at ${cosignerUrl} \\(connect ECONNREFUSED`),
    );
    expect(sign.output()).toMatch(/vigil recover --wallet/);
    expect(sign.output()).not.toMatch(/fetch failed/);
  }, 30_000);
});
