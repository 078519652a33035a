/** Starts one vault node from a validated configuration: sealer, storage, attestation, HTTP. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { FastifyInstance } from 'fastify';
import {
  type AttestationProvider,
  type AwsCredentialsProvider,
  DevAttestationProvider,
  KeyFileSealer,
  KmsSealer,
  NitroAttestationProvider,
  type Sealer,
  StorageBox,
} from '../enclave/index.ts';
import { buildVaultApp } from '../http/app.ts';
import type { VaultConfig } from './config.ts';
import { VaultNode } from './vault-node.ts';

export interface RunningVault {
  url: string;
  node: VaultNode;
  app: FastifyInstance;
  close(): Promise<void>;
}

async function attestationFor(
  config: VaultConfig,
  warn: (m: string) => void,
): Promise<AttestationProvider> {
  if (!config.insecureDevAttestation) return new NitroAttestationProvider();
  // The dev signing key is kept beside the data so a restarted dev node keeps its identity.
  const signingKey = await new KeyFileSealer({
    path: join(config.dataDir, 'dev-attestation.key'),
  }).storageKey();
  return new DevAttestationProvider({ insecureDevAttestation: true, signingKey, warn });
}

/** The configured sealer; the KMS one keeps its wrapped data key in `dataDir`. */
export function sealerFor(
  s: VaultConfig['sealer'],
  dataDir: string,
  attestation: AttestationProvider,
  /** Credentials for KMS other than the SDK's default chain (an enclave's, from its host agent). */
  credentials?: AwsCredentialsProvider,
): Sealer {
  if (s.kind === 'key-file') return new KeyFileSealer({ path: s.path });
  return new KmsSealer({
    client: new KMSClient({
      ...(s.region ? { region: s.region } : {}),
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    }),
    keyId: s.keyId,
    blobPath: join(dataDir, 'kms-data-key.blob'),
    attestation,
  });
}

export async function startVaultServer(config: VaultConfig): Promise<RunningVault> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const startWarnings: string[] = [];
  const attestation = await attestationFor(config, (m) => startWarnings.push(m));
  // Fail at start, not at the first client: outside a Nitro enclave there is no NSM to attest.
  if (!attestation.insecure) await attestation.attest({ nonce: new Uint8Array(32) });
  const sealer = sealerFor(config.sealer, config.dataDir, attestation);
  const storageKey = await sealer.storageKey();
  const node = await VaultNode.open({
    dataDir: join(config.dataDir, 'db'),
    cipher: new StorageBox(storageKey),
    operatorKey: config.operatorKey,
  });
  let app: FastifyInstance;
  try {
    app = await buildVaultApp({
      backend: node,
      attestation,
      rateLimitPerMinute: config.rateLimitPerMinute,
      corsOrigins: config.corsOrigins,
      logger: { level: config.logLevel },
    });
    for (const m of startWarnings) app.log.warn(m);
    if (sealer.insecure) {
      app.log.warn(
        'storage key sealed by a local key file: for development only, not for production',
      );
    }
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await node.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `http://${config.host}:${port}`,
    node,
    app,
    async close() {
      await app.close();
      await node.close();
    },
  };
}
