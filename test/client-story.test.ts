/**
 * DESIGN.md §1 with real processes: a vault node (`vigil vault start`), the provider's cosigner
 * (`vigil cosigner start`, pinging every second), wallets made with `vigil wallet create`, a claim
 * that the provider's ping cancels while `vigil recover` solves, then the cosigner dies (SIGKILL)
 * and `vigil recover` walks away with a key that independent code checks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { checkKeyIndependently, loadWallet } from '../client-lib/index.ts';
import { KeyFileSealer, signTenantRegistration, tenantRegistrationToJson } from '../vault/index.ts';
import { startVigil, type VigilProcess } from './support/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-client-story-'));
const started: VigilProcess[] = [];
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

function vigil(args: string[], env: NodeJS.ProcessEnv = {}): VigilProcess {
  const p = startVigil(args, { VIGIL_LOG_LEVEL: 'silent', ...env });
  started.push(p);
  return p;
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = vigil(args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}

describe('the whole story with real processes', () => {
  it('create, ping cancels a claim, the cosigner dies, recover', async () => {
    const operator = schnorr.utils.randomSecretKey();
    const vaultDir = join(dir, 'vault');
    const vault = vigil([
      'vault',
      'start',
      '--data-dir',
      vaultDir,
      '--port',
      '0',
      '--insecure-dev-attestation',
      '--operator-key',
      Buffer.from(schnorr.getPublicKey(operator)).toString('hex'),
    ]);
    const vaultUrl = (await vault.waitFor(/vault listening on (\S+)/, 30_000))[1] as string;
    const devKey = Buffer.from(
      ed25519.getPublicKey(
        await new KeyFileSealer({ path: join(vaultDir, 'dev-attestation.key') }).storageKey(),
      ),
    ).toString('hex');

    const cosigner = vigil([
      'cosigner',
      'start',
      '--data-dir',
      join(dir, 'cosigner'),
      '--port',
      '0',
      '--vault',
      vaultUrl,
      '--tenant',
      'acme',
      '--ping-interval',
      '1',
      '--insecure-dev-attestation',
      '--dev-attestation-key',
      devKey,
      '--pool-size',
      '1',
      '--min-iterations',
      '16',
      '--max-iterations',
      '5000000',
      '--groups',
      'rsa2048',
    ]);
    const m = await cosigner.waitFor(
      /cosigner listening on (\S+)\ntenant (\S+)\ntenant key (\S+)\nping key (\S+)/,
      60_000,
    );
    const [, cosignerUrl, tenant, tenantKey, pingKey] = m as unknown as string[];
    const info = (await (await fetch(`${vaultUrl}/v1/attestation`)).json()) as {
      cluster: { clusterId: string };
    };
    const registration = signTenantRegistration(
      Buffer.from(info.cluster.clusterId, 'hex'),
      {
        tenant: tenant as string,
        tenantKey: Buffer.from(tenantKey as string, 'hex'),
        pingKey: Buffer.from(pingKey as string, 'hex'),
        limits: {
          groups: ['rsa2048'],
          minIterations: 16,
          maxIterations: 5_000_000,
          maxWallets: 10,
          maxClaims: 4,
        },
      },
      operator,
      new Uint8Array(32),
    );
    const reg = await fetch(`${vaultUrl}/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tenantRegistrationToJson(registration)),
    });
    expect(reg.status).toBe(201);

    const pw = join(dir, 'pw');
    writeFileSync(pw, 'correct horse battery staple\n');
    const create = (out: string) =>
      run([
        'wallet',
        'create',
        '--cosigner',
        cosignerUrl as string,
        '--scheme',
        'musig2',
        '--iterations',
        '1500000',
        '--dev-attestation-key',
        devKey,
        '--password-file',
        pw,
        '--scrypt-log-n',
        '10',
        '--out',
        out,
        '--json',
      ]);
    const aPath = join(dir, 'a.vigil');
    const bPath = join(dir, 'b.vigil');
    for (const p of [aPath, bPath]) {
      const r = await create(p);
      expect(r.code, r.output).toBe(0);
    }
    const signed = await run([
      'wallet',
      'sign',
      '--wallet',
      aPath,
      '--password-file',
      pw,
      '--message',
      'hello',
      '--json',
    ]);
    expect(signed.code, signed.output).toBe(0);
    const sig = JSON.parse(signed.output.split('\n').find((l) => l.startsWith('{')) as string);
    const a = await loadWallet(aPath, 'correct horse battery staple');
    expect(
      schnorr.verify(
        Buffer.from(sig.signature, 'hex'),
        Buffer.from(sig.hash, 'hex'),
        a.q.subarray(1),
      ),
    ).toBe(true);
    expect(
      (await run(['wallet', 'backup-status', '--wallet', aPath, '--password-file', pw])).code,
    ).toBe(0);

    // The provider is alive: its pings cancel the claim while we solve.
    const cancelled = await run([
      'recover',
      '--wallet',
      aPath,
      '--password-file',
      pw,
      '--watch-seconds',
      '0.2',
    ]);
    expect(cancelled.code, cancelled.output).toBe(3);
    expect(cancelled.output).toMatch(/proof of life/);

    // The provider disappears.
    cosigner.child.kill('SIGKILL');
    await cosigner.exited;
    const recovered = await run(['recover', '--wallet', bPath, '--password-file', pw, '--json']);
    expect(recovered.code, recovered.output).toBe(0);
    const out = JSON.parse(recovered.output.split('\n').find((l) => l.startsWith('{')) as string);
    const wallet = await loadWallet(bPath, 'correct horse battery staple');
    expect(out.publicKey).toBe(Buffer.from(wallet.q).toString('hex'));
    expect(checkKeyIndependently(new Uint8Array(Buffer.from(out.hex, 'hex')), wallet.q)).toEqual({
      opensslEcdsa: true,
      nobleVerifiesOpenssl: true,
      bip340: true,
    });
    vault.child.kill('SIGTERM');
    expect(await vault.exited).toBe(0);
  }, 180_000);
});
