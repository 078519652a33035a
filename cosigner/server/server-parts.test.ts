import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DevAttestationVerifier, StorageBox } from '../../vault/index.ts';
import { nextAuditRecord, verifyAuditChain } from './audit.ts';
import { parseCosignerConfig } from './config.ts';
import { createCosignerMetrics } from './metrics.ts';
import { SessionTable } from './sessions.ts';
import { CosignerStore } from './store.ts';
import { VaultLink } from './vault-link.ts';

describe('audit chain', () => {
  const chain = (n: number) => {
    const out = [];
    let prev: ReturnType<typeof nextAuditRecord> | undefined;
    for (let i = 0; i < n; i++) {
      prev = nextAuditRecord('w', prev, 1000 + i, `e${i}`, { i });
      out.push(prev);
    }
    return out;
  };

  it('verifies an honest chain and finds the first broken link', () => {
    const c = chain(5);
    expect(verifyAuditChain('w', c)).toBe(-1);
    expect(verifyAuditChain('other-wallet', c)).toBe(0);
    expect(verifyAuditChain('w', [c[0], c[2], c[3]] as typeof c)).toBe(1);
    expect(
      verifyAuditChain(
        'w',
        c.map((r, i) => (i === 3 ? { ...r, details: { i: 9 } } : r)),
      ),
    ).toBe(3);
    expect(verifyAuditChain('w', [...c].reverse())).toBe(0);
  });
});

describe('session table', () => {
  it('bounds sessions in number and time and keys them by wallet and kind', () => {
    let now = 0;
    const t = new SessionTable({ max: 2, ttlMs: 100, now: () => now });
    t.open('w1', 'sign', 'a', 1);
    t.open('w1', 'sign', 'b', 2);
    expect(() => t.open('w2', 'sign', 'c', 3)).toThrow(
      expect.objectContaining({ code: 'COSIGNER_BUSY' }),
    );
    expect(() => t.get('w2', 'sign', 'a')).toThrow(
      expect.objectContaining({ code: 'COSIGNER_SESSION_NOT_FOUND' }),
    );
    expect(() => t.get('w1', 'keygen', 'a')).toThrow(
      expect.objectContaining({ code: 'COSIGNER_SESSION_NOT_FOUND' }),
    );
    expect(t.get('w1', 'sign', 'a')).toBe(1);
    now = 100;
    expect(() => t.get('w1', 'sign', 'a')).toThrow(
      expect.objectContaining({ code: 'COSIGNER_SESSION_NOT_FOUND' }),
    );
    t.open('w2', 'sign', 'c', 3);
    expect(t.size).toBe(1);
  });
});

describe('configuration', () => {
  it('reports every problem at once and accepts a valid dev configuration', () => {
    expect(() => parseCosignerConfig({ port: 'x', sealer: 'floppy' }, {})).toThrow(
      /port[\s\S]*vault[\s\S]*tenant[\s\S]*sealer/,
    );
    const c = parseCosignerConfig(
      {
        vault: 'http://127.0.0.1:7400',
        tenant: 'acme',
        insecureDevAttestation: true,
        devAttestationKey: 'ab'.repeat(32),
        pingInterval: '2',
      },
      { VIGIL_COSIGNER_PORT: '7600' },
    );
    expect(c).toMatchObject({
      port: 7600,
      pingIntervalMs: 2000,
      tenant: 'acme',
      kinds: ['strict'],
    });
    const both = { VIGIL_COSIGNER_POLICY_KINDS: 'strict,clock-gated' };
    const offered = parseCosignerConfig(
      {
        vault: 'http://x',
        tenant: 'a',
        insecureDevAttestation: true,
        devAttestationKey: 'ab'.repeat(32),
      },
      both,
    );
    expect(offered.kinds).toEqual(['strict', 'clock-gated']);
    expect(() =>
      parseCosignerConfig(
        {
          vault: 'http://x',
          tenant: 'a',
          insecureDevAttestation: true,
          devAttestationKey: 'ab'.repeat(32),
          policyKinds: 'lenient',
        },
        {},
      ),
    ).toThrow(/unknown policy kind "lenient"/);
    expect(() =>
      parseCosignerConfig({ vault: 'http://x', tenant: 'acme', insecureDevAttestation: true }, {}),
    ).toThrow(/dev-attestation-key/);
  });

  it('takes several vault URLs and the abuse limits (issue 11), checking each', () => {
    const dev = {
      tenant: 'acme',
      insecureDevAttestation: true,
      devAttestationKey: 'ab'.repeat(32),
    };
    const c = parseCosignerConfig(
      { ...dev, vault: 'http://10.0.0.1:7400,https://vault-2.example:7400' },
      { VIGIL_COSIGNER_VAULT_WALLET_LIMIT: '1000', VIGIL_COSIGNER_KEYGEN_QUOTA_CLIENT: '5' },
    );
    expect(c).toMatchObject({
      vaultUrl: 'http://10.0.0.1:7400,https://vault-2.example:7400',
      vaultWalletLimit: 1000,
      refreshHeadroom: 10,
      keygenQuotaPerClient: 5,
      keygenQuotaPerWallet: 10,
      registrationQuotaPerClient: 20,
    });
    expect(() =>
      parseCosignerConfig(
        {
          ...dev,
          vault: 'http://10.0.0.1:7400,ftp://x',
          vaultWalletLimit: '10',
          refreshHeadroom: '10',
          keygenQuotaWallet: '0',
        },
        {},
      ),
    ).toThrow(/--vault[\s\S]*keygen-quota-wallet[\s\S]*refresh-headroom/);
  });
});

describe('vault link', () => {
  it('counts an unreachable vault and a failed ping in the metrics', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cosigner-link-'));
    const store = await CosignerStore.open(dir, new StorageBox(new Uint8Array(32).fill(7)));
    try {
      const metrics = createCosignerMetrics();
      let logged = '';
      const link = new VaultLink(
        {
          urls: ['http://127.0.0.1:1'],
          verifier: new DevAttestationVerifier({
            insecureDevAttestation: true,
            trustedKeys: [new Uint8Array(32)],
            warn: () => {},
          }),
          store,
          metrics,
          log: pino(
            { level: 'info' },
            {
              write: (line: string) => {
                logged += line;
              },
            },
          ),
          timeoutMs: 2000,
        },
        {
          tenant: 'acme',
          tenantSecretKey: '11'.repeat(32),
          pingSecretKey: '22'.repeat(32),
          seq: 0,
        },
      );
      await expect(link.ping()).rejects.toMatchObject({ code: 'COSIGNER_VAULT_UNAVAILABLE' });
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/vigil_cosigner_vault_unreachable_total 1/);
      expect(text).toMatch(/vigil_cosigner_pings_total\{outcome="COSIGNER_VAULT_UNAVAILABLE"\} 1/);
      // With a cluster id, the round runs, reaches no node within its budget, and says so.
      await expect(link.ping(new Uint8Array(32), 500)).rejects.toMatchObject({
        code: 'COSIGNER_VAULT_UNAVAILABLE',
      });
      const after = await metrics.registry.metrics();
      expect(after).toMatch(/vigil_cosigner_pings_uncommitted_total 1/);
      expect(after).toMatch(/vigil_cosigner_pings_total\{outcome="COSIGNER_VAULT_UNAVAILABLE"\} 2/);
      expect(logged).toContain('ping could not be committed at any vault node');
      expect(logged).not.toContain('22'.repeat(32)); // the ping key
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
