import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultError } from '../errors.ts';
import { DevAttestationProvider, DevAttestationVerifier, devPcr } from './dev-attestation.ts';
import { type FakeKms, startFakeKms } from './fake-kms.test-support.ts';
import { fileBlobKeeper, KmsSealer, type RecipientKeyPair } from './kms-sealer.ts';

const ACCESS_KEY_ID = 'AKIAVIGILTESTKEY0000';
const quiet = { insecureDevAttestation: true, warn: () => {} };

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof VaultError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'ACCEPTED';
}

describe('KmsSealer through @aws-sdk/client-kms against a loopback KMS (JSON 1.1)', () => {
  let dir: string;
  let kms: FakeKms;
  let client: KMSClient;
  const enclave = new DevAttestationProvider({ ...quiet, signingKey: new Uint8Array(32).fill(7) });
  const impostor = new DevAttestationProvider({
    ...quiet,
    signingKey: new Uint8Array(32).fill(7),
    pcrs: { 0: new Uint8Array(48).fill(9) },
  });
  // The fake's "key policy": documents from the trusted dev key with the expected image PCR0.
  const verifier = new DevAttestationVerifier({ ...quiet, trustedKeys: [enclave.publicKey] });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-kms-'));
    kms = await startFakeKms({
      keyIds: ['1234abcd-12ab-34cd-56ef-1234567890ab'],
      accessKeyId: ACCESS_KEY_ID,
      recipientKey: (document) => {
        const verified = verifier.verify(document, {
          expectedPcrs: { 0: devPcr(0) },
          maxAgeMs: 60_000,
        });
        if (verified.publicKey === null)
          throw new VaultError('ATTESTATION_MALFORMED', 'no public_key');
        return verified.publicKey;
      },
    });
    client = new KMSClient({
      region: 'us-east-1',
      endpoint: kms.endpoint,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'vigil-test-secret' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await kms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // RSA-2048 generation costs ~100 ms on 2 busy cores: the first test uses the real per-start
  // generator, the rest reuse one pair.
  let shared: Promise<RecipientKeyPair> | undefined;
  const sharedKey = () => {
    shared ??= new Promise((resolve) => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      resolve({ publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }), privateKey });
    });
    return shared;
  };
  const sealer = (
    blob: string,
    overrides: Partial<ConstructorParameters<typeof KmsSealer>[0]> = {},
  ) =>
    new KmsSealer({
      client,
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      blob: fileBlobKeeper(join(dir, blob)),
      attestation: enclave,
      recipientKey: sharedKey,
      ...overrides,
    });

  it('first start generates a data key, persists the blob, later starts decrypt it to the same key', async () => {
    kms.requests.length = 0;
    const first = await sealer('a.blob', { recipientKey: undefined }).storageKey();
    expect(first.length).toBe(32);
    expect(statSync(join(dir, 'a.blob')).mode & 0o777).toBe(0o600);
    const second = await sealer('a.blob', { recipientKey: undefined }).storageKey();
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);

    expect(kms.requests.map((r) => r.target)).toEqual([
      'TrentService.GenerateDataKey',
      'TrentService.Decrypt',
    ]);
    const [generate, decrypt] = kms.requests;
    expect(generate!.contentType).toBe('application/x-amz-json-1.1');
    expect(generate!.body.KeySpec).toBe('AES_256');
    const recipient = generate!.body.Recipient as Record<string, string>;
    expect(recipient.KeyEncryptionAlgorithm).toBe('RSAES_OAEP_SHA_256');
    // Each start attests a fresh RSA-2048 key.
    const spkiOf = (r: typeof generate) =>
      verifier.verify(
        Buffer.from((r!.body.Recipient as Record<string, string>).AttestationDocument!, 'base64'),
      ).publicKey!;
    expect(spkiOf(generate).length).toBe(294);
    expect(Buffer.from(spkiOf(generate)).equals(Buffer.from(spkiOf(decrypt)))).toBe(false);
    expect(decrypt!.body.CiphertextBlob).toBe(readFileSync(join(dir, 'a.blob')).toString('base64'));
    expect(decrypt!.body.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
  });

  it('different blobs give independent keys', async () => {
    const a = await sealer('b1.blob').storageKey();
    const b = await sealer('b2.blob').storageKey();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('maps KMS errors to SEALER_KMS_FAILED with the KMS error name', async () => {
    expect(await codeOf(() => sealer('c.blob', { keyId: 'no-such-key' }).storageKey())).toMatch(
      /^SEALER_KMS_FAILED: KMS GenerateDataKey failed: NotFoundException/,
    );
    expect(existsSync(join(dir, 'c.blob'))).toBe(false);
    writeFileSync(join(dir, 'd.blob'), Buffer.from('FAKEKMS1 but not a blob at all'));
    expect(await codeOf(() => sealer('d.blob').storageKey())).toMatch(
      /^SEALER_KMS_FAILED: KMS Decrypt failed: InvalidCiphertextException/,
    );
    expect(await codeOf(() => sealer('e.blob', { attestation: impostor }).storageKey())).toMatch(
      /^SEALER_KMS_FAILED: KMS GenerateDataKey failed: AccessDeniedException/,
    );
    const wrongCredentials = new KMSClient({
      region: 'us-east-1',
      endpoint: kms.endpoint,
      credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    expect(await codeOf(() => sealer('f.blob', { client: wrongCredentials }).storageKey())).toMatch(
      /UnrecognizedClientException/,
    );
    wrongCredentials.destroy();
  });

  it('refuses a response that carries Plaintext instead of CiphertextForRecipient', async () => {
    kms.leakPlaintext = true;
    try {
      expect(await codeOf(() => sealer('g.blob').storageKey())).toMatch(
        /^SEALER_KMS_PLAINTEXT_RETURNED/,
      );
      expect(existsSync(join(dir, 'g.blob'))).toBe(false);
      await sealer('h.blob')
        .storageKey()
        .catch(() => undefined);
    } finally {
      kms.leakPlaintext = false;
    }
    await sealer('h.blob').storageKey();
    kms.leakPlaintext = true;
    try {
      expect(await codeOf(() => sealer('h.blob').storageKey())).toMatch(
        /^SEALER_KMS_PLAINTEXT_RETURNED/,
      );
    } finally {
      kms.leakPlaintext = false;
    }
  });

  it('answers malformed protocol requests with KMS-shaped errors', async () => {
    const post = async (
      target: string,
      body: string,
      contentType = 'application/x-amz-json-1.1',
    ) => {
      const res = await fetch(kms.endpoint, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'x-amz-target': target,
          authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/20250101/us-east-1/kms/aws4_request`,
        },
        body,
      });
      return { status: res.status, body: (await res.json()) as { __type: string } };
    };
    expect(await post('TrentService.Nope', '{}')).toEqual({
      status: 400,
      body: expect.objectContaining({ __type: 'UnknownOperationException' }),
    });
    expect((await post('TrentService.Decrypt', '{not json')).body.__type).toBe(
      'SerializationException',
    );
    expect((await post('TrentService.GenerateDataKey', '{}')).body.__type).toBe(
      'ValidationException',
    );
    const badAlg = JSON.stringify({
      KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      KeySpec: 'AES_256',
      Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', AttestationDocument: 'AA==' },
    });
    expect((await post('TrentService.GenerateDataKey', badAlg)).body.__type).toBe(
      'ValidationException',
    );
  });
});
