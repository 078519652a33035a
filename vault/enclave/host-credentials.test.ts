/**
 * KMS credentials passed by the host agent (item 3 of issue 12): the node's KMS client signs
 * with the parent role's temporary credentials fetched over the host socket; once they expire
 * the rotated ones are fetched and used, and the KMS fake refuses an expired one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAgent, HostClient } from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';
import { DevAttestationProvider, DevAttestationVerifier, devPcr } from './dev-attestation.ts';
import { type FakeKms, startFakeKms } from './fake-kms.test-support.ts';
import {
  type AwsCredentials,
  decodeAwsCredentials,
  encodeAwsCredentials,
  hostCredentialProvider,
} from './host-credentials.ts';
import { fileBlobKeeper, KmsSealer } from './kms-sealer.ts';

const quiet = { insecureDevAttestation: true, warn: () => {} };
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

describe('KMS credentials from the host agent', () => {
  let dir: string;
  let kms: FakeKms;
  let agent: HostAgent;
  let client: HostClient;
  const enclave = new DevAttestationProvider({ ...quiet, signingKey: new Uint8Array(32).fill(7) });
  const verifier = new DevAttestationVerifier({ ...quiet, trustedKeys: [enclave.publicKey] });
  // set when the first test begins, so a slow start-up cannot use up their life
  let firstExpires = 0;
  let first: AwsCredentials;
  const rotated: AwsCredentials = {
    accessKeyId: 'ASIAVIGILROTATED0002',
    secretAccessKey: 'rotated-secret',
    sessionToken: 'token-rotated',
    expiration: new Date(Date.now() + 3_600_000),
  };
  let handedOut = 0;
  const sessions = new Map([
    [
      rotated.sessionToken!,
      { accessKeyId: rotated.accessKeyId, expiresAt: rotated.expiration!.getTime() },
    ],
  ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-host-creds-'));
    kms = await startFakeKms({
      keyIds: [KEY_ID],
      accessKeyId: 'AKIANOSTATICKEY00000',
      sessions,
      recipientKey: (document) => {
        const v = verifier.verify(document, { expectedPcrs: { 0: devPcr(0) }, maxAgeMs: 60_000 });
        if (v.publicKey === null) throw new VaultError('ATTESTATION_MALFORMED', 'no public_key');
        return v.publicKey;
      },
    });
    // the parent's provider chain, as the SDK rotates it: new credentials shortly before expiry
    agent = await HostAgent.start({
      dir: join(dir, 'host'),
      address: { kind: 'unix', path: join(dir, 'host.sock') },
      credentials: async () => {
        handedOut++;
        return encodeAwsCredentials(Date.now() < firstExpires - 1_000 ? first : rotated);
      },
    });
    client = await HostClient.connect({ kind: 'unix', path: join(dir, 'host.sock') });
  });

  afterAll(async () => {
    await client?.close();
    await agent?.close();
    await kms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sealer = (credentials: KMSClient['config']['credentials'] | AwsCredentials) =>
    new KmsSealer({
      client: new KMSClient({
        region: 'us-east-1',
        endpoint: kms.endpoint,
        credentials,
        maxAttempts: 1,
      }),
      keyId: KEY_ID,
      blob: fileBlobKeeper(join(dir, 'kms-data-key.blob')),
      attestation: enclave,
    });

  it('signs with the credentials the host passed, and with the rotated ones after they expire', async () => {
    firstExpires = Date.now() + 2_500;
    first = {
      accessKeyId: 'ASIAVIGILFIRST000001',
      secretAccessKey: 'first-secret',
      sessionToken: 'token-first',
      expiration: new Date(firstExpires),
    };
    sessions.set(first.sessionToken!, { accessKeyId: first.accessKeyId, expiresAt: firstExpires });
    const provider = hostCredentialProvider(() => client.credentials(), { refreshBeforeMs: 500 });
    const key = await sealer(provider).storageKey(); // GenerateDataKey, signed with the first
    expect(handedOut).toBe(1);
    expect(kms.requests.at(-1)?.target).toBe('TrentService.GenerateDataKey');
    // wait (on the clock, not a fixed sleep) until the first credentials have expired
    while (Date.now() <= firstExpires) await new Promise((r) => setTimeout(r, 50));
    const again = await sealer(provider).storageKey(); // Decrypt, signed with the rotated ones
    expect(Buffer.from(again).equals(Buffer.from(key))).toBe(true);
    expect(handedOut).toBe(2);
    expect(kms.requests.at(-1)?.target).toBe('TrentService.Decrypt');
    expect(kms.refusals).toEqual([]);
  });

  it('the KMS fake refuses the expired credentials themselves', async () => {
    while (Date.now() <= firstExpires) await new Promise((r) => setTimeout(r, 50));
    const stale = { ...first, expiration: undefined };
    await expect(sealer(stale).storageKey()).rejects.toMatchObject({ code: 'SEALER_KMS_FAILED' });
    expect(kms.refusals.at(-1)).toBe('ExpiredTokenException');
  });

  it('refuses malformed credentials from the host', () => {
    const bad = encodeAwsCredentials({ accessKeyId: 'not an id', secretAccessKey: 's' });
    expect(() => decodeAwsCredentials(bad)).toThrow(VaultError);
    expect(() => decodeAwsCredentials(Uint8Array.of(0, 0, 0, 9))).toThrow(VaultError);
    const round = decodeAwsCredentials(encodeAwsCredentials(rotated));
    expect(round).toEqual(rotated);
  });
});
