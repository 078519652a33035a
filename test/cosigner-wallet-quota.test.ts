/**
 * Issue 11, item 9: anonymous wallet creation must not use up the tenant's vault quota so that
 * the provider can neither onboard nor refresh (a refresh deposits the new share before it
 * deletes the old one). Over real HTTP against a vault node whose tenant holds at most 3 wallets:
 * the cosigner keeps 1 of them for refreshes, so a third new wallet is refused (503
 * COSIGNER_WALLET_CAPACITY) and a refresh still deposits; and one address may register only so
 * many wallets an hour (429 COSIGNER_REGISTRATION_QUOTA). Before, the third wallet took the last
 * slot and the refresh failed with the vault's WALLET_LIMIT.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSetup,
  type Cosigner,
  CosignerClient,
  openCosigner,
  PaillierKeyPool,
  verifyKeyDeposit,
} from '../cosigner/index.ts';
import { KeyFileSealer } from '../vault/index.ts';
import {
  errorOf,
  securityPolicy,
  smallClientSetup,
  startInProcessVault,
} from './support/cosigner.ts';
import { registerTenantAt } from './support/dev-processes.ts';

const walletPolicy = { group: 'rsa2048' as const, iterations: 64 };

let dir: string;
let vault: Awaited<ReturnType<typeof startInProcessVault>>;
let cosigner: Cosigner;
let base: string;
let setup: ClientSetup;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-wallet-quota-'));
  vault = await startInProcessVault(dir);
  setup = smallClientSetup();
  // Keys for two keygens and a refresh, made now: nothing here waits on a refill.
  const pool = new PaillierKeyPool({ target: 3 });
  pool.fill();
  cosigner = await openCosigner({
    dataDir: join(dir, 'cosigner'),
    sealer: new KeyFileSealer({ path: join(dir, 'cosigner.key') }),
    vaultUrl: vault.url,
    verifier: vault.verifier(),
    tenant: 'acme',
    pingIntervalMs: 0,
    limits: { groups: ['rsa2048'], minIterations: 16, maxIterations: 5000 },
    pool,
    securityPolicy,
    registrationQuotaPerClient: 4,
    vaultWalletLimit: 3,
    refreshHeadroom: 1,
  });
  base = await cosigner.app.listen({ host: '127.0.0.1', port: 0 });
  expect(await registerTenantAt(vault.url, vault.operatorSecretKey, cosigner.tenantKeys, 3)).toBe(
    201,
  );
}, 60_000);

afterAll(async () => {
  await cosigner?.close();
  await vault?.close();
  await rm(dir, { recursive: true, force: true });
});

const register = (scheme: 'ecdsa-2p' | 'musig2' = 'ecdsa-2p') =>
  CosignerClient.register({
    baseUrl: base,
    authSecretKey: schnorr.utils.randomSecretKey(),
    policy: walletPolicy,
    securityPolicy,
    scheme,
  });

describe('wallet creation keeps room for refreshes', () => {
  it('refuses new wallets before the last vault slots, and a refresh still deposits', async () => {
    const a = await register();
    const ka = await a.keygen(setup);
    const b = await register();
    await b.keygen(setup);
    // Two deposits held; the third slot is kept for refreshes.
    const c = await register('musig2');
    expect(await errorOf(c.keygenMusig())).toEqual({
      status: 503,
      code: 'COSIGNER_WALLET_CAPACITY',
    });
    expect(await c.status()).toMatchObject({ state: 'registered' });
    // The refresh deposits its new share into the kept slot, then the old one is deleted.
    const r = await a.refresh({ share: ka.share, setup });
    expect(r.key.q).toBe(ka.key.q);
    expect(verifyKeyDeposit(r.key, 'ecdsa-2p', walletPolicy)).toBe(true);
    const old = await fetch(`${vault.url}/v1/wallets/${ka.key.vault.vaultWalletId}`);
    expect(old.status).toBe(404);
  }, 60_000);

  it('bounds the wallets one address may register', async () => {
    await register(); // the fourth of this address this hour
    expect(await errorOf(register())).toEqual({
      status: 429,
      code: 'COSIGNER_REGISTRATION_QUOTA',
    });
  });
});
