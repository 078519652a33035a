/**
 * A dev stack as real processes for the cosigner's availability tests and the pings bench: a dev
 * vault (`vigil vault start`), a cosigner (`vigil cosigner start`), and the operator's
 * registration of the cosigner's tenant.
 */
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  KeyFileSealer,
  signTenantRegistration,
  tenantRegistrationToJson,
} from '../../vault/index.ts';
import { fetchJson, postJson } from './http.ts';
import { startVigil, type VigilProcess } from './processes.ts';

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `vigil vault start` in dev mode; its URL and the dev attestation key a cosigner pins. */
export async function startDevVault(
  dataDir: string,
  operatorPublicKey: Uint8Array,
): Promise<{ process: VigilProcess; url: string; devKey: string }> {
  const p = startVigil([
    'vault',
    'start',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--insecure-dev-attestation',
    '--operator-key',
    hex(operatorPublicKey),
  ]);
  const url = (await p.waitFor(/vault listening on (\S+)/, 60_000))[1] as string;
  const devKey = hex(
    ed25519.getPublicKey(
      await new KeyFileSealer({ path: join(dataDir, 'dev-attestation.key') }).storageKey(),
    ),
  );
  return { process: p, url, devKey };
}

/** Registers a cosigner's tenant (its tenant and ping keys) through `url`; returns the status. */
export async function registerTenantAt(
  url: string,
  operatorSecretKey: Uint8Array,
  t: { tenant: string; tenantKey: string; pingKey: string },
  maxWallets = 1000,
): Promise<number> {
  const att = (await fetchJson(`${url}/v1/attestation`)).json;
  const registration = signTenantRegistration(
    Buffer.from(att.cluster.clusterId as string, 'hex'),
    {
      tenant: t.tenant,
      tenantKey: Buffer.from(t.tenantKey, 'hex'),
      pingKey: Buffer.from(t.pingKey, 'hex'),
      limits: {
        groups: ['rsa2048'],
        minIterations: 16,
        maxIterations: 5_000_000,
        maxWallets,
        maxClaims: 4,
      },
    },
    operatorSecretKey,
    schnorr.utils.randomSecretKey(),
  );
  return (await postJson(`${url}/v1/tenants`, tenantRegistrationToJson(registration))).status;
}

/** The quotas and rate limit out of the way: every flood request reaches the keygen path. */
export const NO_QUOTAS = [
  '--wallet-quota-client',
  '1000000',
  '--keygen-quota-wallet',
  '1000000',
  '--keygen-quota-client',
  '1000000',
  '--rate-limit',
  '10000000',
];

/** `vigil cosigner start` against `vault.url` (one URL or several, comma-separated). */
export async function startCosignerProcess(
  dataDir: string,
  vault: { url: string; devKey: string },
  opts: { pingIntervalS?: number; extra?: string[] } = {},
): Promise<{
  process: VigilProcess;
  url: string;
  tenant: string;
  tenantKey: string;
  pingKey: string;
}> {
  const p = startVigil([
    'cosigner',
    'start',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--vault',
    vault.url,
    '--tenant',
    'acme',
    '--ping-interval',
    String(opts.pingIntervalS ?? 1),
    '--insecure-dev-attestation',
    '--dev-attestation-key',
    vault.devKey,
    '--pool-size',
    '2',
    '--groups',
    'rsa2048',
    '--min-iterations',
    '16',
    '--log-level',
    'warn',
    ...(opts.extra ?? []),
  ]);
  const m = await p.waitFor(
    /cosigner listening on (\S+)\ntenant (\S+)\ntenant key (\S+)\nping key (\S+)/,
    60_000,
  );
  const [, url, tenant, tenantKey, pingKey] = m as unknown as string[];
  return { process: p, url: url!, tenant: tenant!, tenantKey: tenantKey!, pingKey: pingKey! };
}
