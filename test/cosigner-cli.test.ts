/** `vigil cosigner start` validates its whole configuration before starting anything. */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { buildVaultApp, DevAttestationProvider, StorageBox, VaultNode } from '../vault/index.ts';

const vigil = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/vigil.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });

describe('vigil cosigner start', () => {
  it('reports every configuration problem at once and exits 2', () => {
    const r = vigil(['cosigner', 'start', '--port', 'x', '--ping-interval', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/port must be an integer/);
    expect(r.stderr).toMatch(/ping-interval must be an integer/);
    expect(r.stderr).toMatch(/--vault/);
    expect(r.stderr).toMatch(/--tenant/);
  });

  it('refuses dev attestation without pinned vault keys', () => {
    const r = vigil(['cosigner', 'start', '--vault', 'http://127.0.0.1:7400', '--tenant', 'acme'], {
      VIGIL_INSECURE_DEV_ATTESTATION: '1',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dev-attestation-key/);
  });

  it('lists its flags in --help', () => {
    const r = vigil(['cosigner', 'start', '--help']);
    expect(r.status).toBe(0);
    for (const flag of [
      '--data-dir',
      '--port',
      '--vault',
      '--ping-interval',
      '--insecure-dev-attestation',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('runs as a process against a dev vault: health, tenant keys, ping metrics, clean stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cosigner-cli-'));
    const node = await VaultNode.open({
      dataDir: join(dir, 'vault'),
      cipher: new StorageBox(new Uint8Array(randomBytes(32))),
      operatorKey: schnorr.getPublicKey(schnorr.utils.randomSecretKey()),
    });
    const provider = new DevAttestationProvider({
      insecureDevAttestation: true,
      signingKey: new Uint8Array(randomBytes(32)),
      warn: () => {},
    });
    const vaultApp = await buildVaultApp({ backend: node, attestation: provider });
    const vaultUrl = await vaultApp.listen({ host: '127.0.0.1', port: 0 });
    const child = spawn(
      process.execPath,
      [
        'bin/vigil.mjs',
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
        Buffer.from(provider.publicKey).toString('hex'),
        '--log-level',
        'silent',
        '--pool-size',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /cosigner listening on (\S+)/.exec(out);
          if (m && /ping key [0-9a-f]{64}/.test(out) && /time locks offered/.test(out)) {
            clearTimeout(timer);
            resolve(m[1] as string);
          }
        });
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const tenant = (await (await fetch(`${url}/v1/tenant`)).json()) as Record<string, string>;
      expect(tenant.tenant).toBe('acme');
      expect(out).toContain(tenant.pingKey as string);
      // The offered policy in time, not only squarings (defaults: rsa2048 and class1024).
      expect(out).toMatch(
        /rsa2048: [\d,]+ to [\d,]+ squarings = .* for the fastest known attacker; a user on a typical desktop waits .* to /,
      );
      // The tenant is not registered at the vault, so pings are refused and counted as such.
      let metrics = '';
      for (
        let i = 0;
        i < 40 && !/pings_total\{outcome="COSIGNER_VAULT_REJECTED"\}/.test(metrics);
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
        metrics = await (await fetch(`${url}/metrics`)).text();
      }
      expect(metrics).toMatch(
        /vigil_cosigner_pings_total\{outcome="COSIGNER_VAULT_REJECTED"\} [1-9]/,
      );
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await vaultApp.close();
      await node.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
