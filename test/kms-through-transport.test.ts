/**
 * KMS calls through the transport seam, as an enclave makes them: the AWS SDK's requests leave
 * through a relay socket (`to-<kms host>-<port>.sock`) that socat carries to the loopback KMS
 * fake, with the KMS host named by a name that does not resolve (so no direct connection could
 * have reached it).
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, describe, expect, it } from 'vitest';
import { relaySocketName, vsockTransport } from '../cluster/index.ts';
import { type FakeKms, startFakeKms } from '../vault/enclave/fake-kms.test-support.ts';
import {
  DevAttestationProvider,
  DevAttestationVerifier,
  fileBlobKeeper,
  KmsSealer,
} from '../vault/index.ts';
import { agentsThrough } from '../vault/tls/index.ts';
import { socat, socatMissing, stopBridges } from './support/socat.ts';
import { until } from './support/until.ts';

const missing = socatMissing();
if (missing) console.warn(`kms-through-transport: skipped: ${missing}`);

const ACCESS_KEY_ID = 'AKIAVIGILTESTKEY0000';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
let dir = '';
let kms: FakeKms | undefined;
afterAll(async () => {
  await stopBridges();
  await kms?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(missing !== null)('KMS through the vsock transport', () => {
  it('generates and decrypts the data key through a relay socket only', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vk-'));
    const quiet = { insecureDevAttestation: true as const, warn: () => {} };
    const enclave = new DevAttestationProvider({
      ...quiet,
      signingKey: new Uint8Array(32).fill(7),
    });
    const verifier = new DevAttestationVerifier({ ...quiet, trustedKeys: [enclave.publicKey] });
    kms = await startFakeKms({
      keyIds: [KEY_ID],
      accessKeyId: ACCESS_KEY_ID,
      recipientKey: (document) => verifier.verify(document).publicKey!,
    });
    const kmsPort = new URL(kms.endpoint).port;
    const relay = join(dir, relaySocketName({ host: 'kms.eu-west-1.vigil.invalid', port: 80 }));
    socat(`UNIX-LISTEN:${relay},fork,unlink-early`, `TCP:127.0.0.1:${kmsPort}`);
    await until(() => existsSync(relay), 10_000, 'the KMS relay socket');
    const client = new KMSClient({
      region: 'eu-west-1',
      endpoint: 'http://kms.eu-west-1.vigil.invalid',
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'vigil-test-secret' },
      maxAttempts: 1,
      requestHandler: agentsThrough(vsockTransport(dir)),
    });
    const sealer = () =>
      new KmsSealer({
        client,
        keyId: KEY_ID,
        blob: fileBlobKeeper(join(dir, 'kms.blob')),
        attestation: enclave,
      });
    const first = await sealer().storageKey();
    const again = await sealer().storageKey();
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    expect(kms.requests.map((r) => r.target)).toEqual([
      'TrentService.GenerateDataKey',
      'TrentService.Decrypt',
    ]);
    client.destroy();
  });
});
