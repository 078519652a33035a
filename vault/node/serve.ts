/** Starts one vault node from a validated configuration: sealer, storage, attestation, HTTP. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { FastifyInstance } from 'fastify';
import { type SocketTransport, tcpTransport, vsockTransport } from '../../cluster/index.ts';
import {
  type AttestationProvider,
  type AwsCredentialsProvider,
  type BlobKeeper,
  DevAttestationProvider,
  fileBlobKeeper,
  KeyFileSealer,
  KmsSealer,
  NitroAttestationProvider,
  type Sealer,
  StorageBox,
} from '../enclave/index.ts';
import { buildVaultApp } from '../http/app.ts';
import { agentsThrough, newTlsIdentity, type TlsIdentity } from '../tls/index.ts';
import type { TransportConfig, VaultConfig } from './config.ts';
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

export function socketsFor(t: TransportConfig): SocketTransport {
  return t.kind === 'vsock' ? vsockTransport(t.relayDir) : tcpTransport();
}

/**
 * The node's TLS key (generated here, in memory only), or none for a dev node on plain HTTP,
 * which says so.
 */
export function tlsFor(tls: boolean, warn: (m: string) => void): TlsIdentity | undefined {
  if (tls) return newTlsIdentity();
  warn(
    'plain HTTP (--tls off, allowed only with --insecure-dev-attestation): for development only',
  );
  return undefined;
}

/**
 * The configured sealer; the KMS one keeps its wrapped data key in `dataDir` and reaches KMS
 * through the transport seam (in an enclave: vsock to the parent's vsock-proxy).
 */
export function sealerFor(
  s: VaultConfig['sealer'],
  dataDir: string,
  attestation: AttestationProvider,
  sockets: SocketTransport = tcpTransport(),
  /** Credentials for KMS other than the SDK's default chain (an enclave's, from its host agent). */
  credentials?: AwsCredentialsProvider,
  /** Where the wrapped data key is kept (default: `dataDir/kms-data-key.blob`). */
  blob?: BlobKeeper,
): Sealer {
  if (s.kind === 'key-file') return new KeyFileSealer({ path: s.path });
  return new KmsSealer({
    client: new KMSClient({
      ...(s.region ? { region: s.region } : {}),
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      requestHandler: agentsThrough(sockets),
    }),
    keyId: s.keyId,
    blob: blob ?? fileBlobKeeper(join(dataDir, 'kms-data-key.blob')),
    attestation,
  });
}

export async function startVaultServer(config: VaultConfig): Promise<RunningVault> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const startWarnings: string[] = [];
  const attestation = await attestationFor(config, (m) => startWarnings.push(m));
  // Fail at start, not at the first client: outside a Nitro enclave there is no NSM to attest.
  if (!attestation.insecure) await attestation.attest({ nonce: new Uint8Array(32) });
  const sockets = socketsFor(config.transport);
  const sealer = sealerFor(config.sealer, config.dataDir, attestation, sockets);
  const tls = tlsFor(config.tls, (m) => startWarnings.push(m));
  const storageKey = await sealer.storageKey();
  const node = await VaultNode.open({
    dataDir: join(config.dataDir, 'db'),
    cipher: new StorageBox(storageKey),
    operatorKey: config.operatorKey,
    sockets,
  });
  let app: FastifyInstance;
  try {
    app = await buildVaultApp({
      backend: node,
      attestation,
      rateLimitPerMinute: config.rateLimitPerMinute,
      corsOrigins: config.corsOrigins,
      logger: { level: config.logLevel },
      ...(tls ? { tls } : {}),
    });
    for (const m of startWarnings) app.log.warn(m);
    if (sealer.insecure) {
      app.log.warn(
        'storage key sealed by a local key file: for development only, not for production',
      );
    }
    await app.listen(sockets.listenTarget('http', { host: config.host, port: config.port }));
  } catch (err) {
    await node.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `${tls ? 'https' : 'http'}://${config.host}:${port}`,
    node,
    app,
    async close() {
      await app.close();
      await node.close();
    },
  };
}
