/** Starts a cosigner from a validated configuration (the CLI's `vigil cosigner start`). */
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import pino from 'pino';
import {
  fileBlobKeeper,
  KeyFileSealer,
  KmsSealer,
  NitroAttestationProvider,
  type Sealer,
  toHex,
  trustVerifier,
  type VaultTrust,
} from '../../vault/index.ts';
import type { CosignerConfig } from './config.ts';
import { type Cosigner, openCosigner } from './cosigner.ts';

export interface RunningCosigner {
  cosigner: Cosigner;
  url: string;
  close(): Promise<void>;
}

/** The vault image this cosigner trusts: its attestation and its nodes' TLS keys. */
function trustOf(c: CosignerConfig): VaultTrust {
  if (c.insecureDevAttestation) {
    return { kind: 'insecure-dev', devKeys: c.devAttestationKeys.map((k) => toHex(k)) };
  }
  return { kind: 'nitro', pcrs: c.expectedPcrs };
}

function sealerFor(c: CosignerConfig): Sealer {
  if (c.sealer.kind === 'key-file') return new KeyFileSealer({ path: c.sealer.path });
  // KMS releases the storage key only to this enclave's attested key (the key policy pins the
  // image); outside a Nitro enclave the provider refuses, so this fails loudly at start.
  return new KmsSealer({
    client: new KMSClient({}),
    keyId: c.sealer.keyId,
    blob: fileBlobKeeper(join(c.dataDir, 'kms-data-key.blob')),
    attestation: new NitroAttestationProvider(),
  });
}

export async function startCosignerServer(c: CosignerConfig): Promise<RunningCosigner> {
  const logger = pino({ level: c.logLevel });
  const cosigner = await openCosigner({
    dataDir: c.dataDir,
    sealer: sealerFor(c),
    vaultUrl: c.vaultUrl,
    verifier: trustVerifier(trustOf(c)),
    vaultTrust: trustOf(c),
    tenant: c.tenant,
    pingIntervalMs: c.pingIntervalMs,
    limits: {
      groups: c.groups,
      kinds: c.kinds,
      minIterations: c.minIterations,
      maxIterations: c.maxIterations,
    },
    poolTarget: c.poolSize,
    maxSessions: c.maxSessions,
    sessionTtlMs: c.sessionTtlMs,
    rateLimitPerMinute: c.rateLimitPerMinute,
    keygenQuotaPerWallet: c.keygenQuotaPerWallet,
    keygenQuotaPerClient: c.keygenQuotaPerClient,
    registrationQuotaPerClient: c.registrationQuotaPerClient,
    vaultWalletLimit: c.vaultWalletLimit,
    refreshHeadroom: c.refreshHeadroom,
    logger,
  });
  const address = await cosigner.app.listen({ host: c.host, port: c.port });
  logger.info(
    { tenant: cosigner.tenantKeys, vault: c.vaultUrl },
    'cosigner started; the vault operator registers this tenant key and ping key',
  );
  return { cosigner, url: address, close: () => cosigner.close() };
}
