import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultError } from '../errors.ts';
import { envelopeTo } from './cms-builder.test-support.ts';

/**
 * Test support only: a loopback server speaking the AWS JSON 1.1 protocol of KMS
 * (POST /, X-Amz-Target: TrentService.<Op>, Content-Type: application/x-amz-json-1.1, base64
 * blobs, errors as {"__type", "message"} with HTTP 400) for GenerateDataKey and Decrypt with
 * Recipient. It checks the attestation document through `recipientKey` and wraps the data key
 * in a real CMS envelope to the RSA key found there, as KMS does.
 */
export interface FakeKmsOptions {
  readonly keyIds: readonly string[];
  readonly accessKeyId: string;
  /**
   * Temporary credentials, as an instance role's: session token → its access key id and expiry
   * (ms since the epoch). A request signed with one must carry its token (X-Amz-Security-Token)
   * and is refused with ExpiredTokenException once it has expired.
   */
  readonly sessions?: ReadonlyMap<string, { accessKeyId: string; expiresAt: number }>;
  /** Verifies the attestation document and returns the recipient's RSA SPKI (DER). Throwing a
   *  VaultError with code ATTESTATION_PCR_MISMATCH models a key-policy denial. */
  readonly recipientKey: (document: Uint8Array) => Uint8Array;
}

export interface RecordedRequest {
  readonly target: string;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
}

export interface FakeKms {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  /** The error type of every refused request, in order. */
  readonly refusals: string[];
  /** Makes the server return Plaintext instead of CiphertextForRecipient (a broken proxy). */
  leakPlaintext: boolean;
  close(): Promise<void>;
}

class KmsError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

const BLOB_MAGIC = Buffer.from('FAKEKMS1');

export async function startFakeKms(options: FakeKmsOptions): Promise<FakeKms> {
  const masterKey = randomBytes(32);
  const arn = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`;

  const sealBlob = (keyId: string, plaintext: Buffer): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv).setAAD(Buffer.from(keyId));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(keyId);
    return Buffer.concat([BLOB_MAGIC, Buffer.of(id.length), id, iv, ct, cipher.getAuthTag()]);
  };

  const openBlob = (blob: Buffer): { keyId: string; plaintext: Buffer } => {
    const invalid = new KmsError('InvalidCiphertextException', '');
    if (blob.length < BLOB_MAGIC.length + 1 + 12 + 16 || !blob.subarray(0, 8).equals(BLOB_MAGIC))
      throw invalid;
    const idLength = blob[8]!;
    const keyId = blob.subarray(9, 9 + idLength).toString();
    const iv = blob.subarray(9 + idLength, 21 + idLength);
    const ct = blob.subarray(21 + idLength, blob.length - 16);
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey, iv).setAAD(Buffer.from(keyId));
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      return { keyId, plaintext: Buffer.concat([decipher.update(ct), decipher.final()]) };
    } catch {
      throw invalid;
    }
  };

  const knownKey = (keyId: unknown): string => {
    if (typeof keyId !== 'string' || keyId.length === 0) {
      throw new KmsError(
        'ValidationException',
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint",
      );
    }
    const id = keyId.startsWith('arn:') ? keyId.split('/').pop()! : keyId;
    if (!options.keyIds.includes(id))
      throw new KmsError('NotFoundException', `Key '${arn(id)}' does not exist`);
    return id;
  };

  const base64Field = (body: Record<string, unknown>, name: string): Buffer => {
    const value = body[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new KmsError(
        'ValidationException',
        `1 validation error detected: Value null at '${name}'`,
      );
    }
    return Buffer.from(value, 'base64');
  };

  const recipientSpki = (body: Record<string, unknown>): Uint8Array | null => {
    const recipient = body.Recipient as Record<string, unknown> | undefined;
    if (recipient === undefined) return null;
    if (recipient.KeyEncryptionAlgorithm !== 'RSAES_OAEP_SHA_256') {
      throw new KmsError(
        'ValidationException',
        'KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256',
      );
    }
    const document = base64Field(recipient, 'AttestationDocument');
    try {
      return options.recipientKey(document);
    } catch (err) {
      if (err instanceof VaultError && err.code === 'ATTESTATION_PCR_MISMATCH') {
        throw new KmsError(
          'AccessDeniedException',
          'User is not authorized to perform: kms:Decrypt with an explicit deny in a resource-based policy',
        );
      }
      throw new KmsError('ValidationException', 'The attestation document is not valid');
    }
  };

  const answer = (
    keyId: string,
    plaintext: Buffer,
    spki: Uint8Array | null,
    extra: Record<string, unknown>,
  ) => {
    const out: Record<string, unknown> = { KeyId: arn(keyId), ...extra };
    if (spki === null || fake.leakPlaintext) out.Plaintext = plaintext.toString('base64');
    else out.CiphertextForRecipient = envelopeTo(spki, plaintext).toString('base64');
    return out;
  };

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GenerateDataKey(body) {
      const keyId = knownKey(body.KeyId);
      const bytes =
        body.KeySpec === 'AES_256' ? 32 : body.KeySpec === 'AES_128' ? 16 : body.NumberOfBytes;
      if (typeof bytes !== 'number' || bytes < 1 || bytes > 1024) {
        throw new KmsError(
          'ValidationException',
          'Please specify either number of bytes or key spec.',
        );
      }
      const spki = recipientSpki(body);
      const plaintext = randomBytes(bytes);
      return answer(keyId, plaintext, spki, {
        CiphertextBlob: sealBlob(keyId, plaintext).toString('base64'),
      });
    },
    Decrypt(body) {
      const { keyId, plaintext } = openBlob(base64Field(body, 'CiphertextBlob'));
      if (body.KeyId !== undefined && knownKey(body.KeyId) !== keyId) {
        throw new KmsError(
          'IncorrectKeyException',
          'The key ID in the request does not identify the key that encrypted the ciphertext',
        );
      }
      return answer(keyId, plaintext, recipientSpki(body), {
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      });
    },
  };

  const respond = (res: ServerResponse, status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    try {
      if (req.method !== 'POST' || req.url !== '/')
        throw new KmsError('UnknownOperationException', '');
      const auth = String(req.headers.authorization ?? '');
      const token = req.headers['x-amz-security-token'];
      const session = typeof token === 'string' ? options.sessions?.get(token) : undefined;
      if (session !== undefined && session.expiresAt <= Date.now()) {
        throw new KmsError(
          'ExpiredTokenException',
          'The security token included in the request is expired',
        );
      }
      const accessKeyId = session?.accessKeyId ?? options.accessKeyId;
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`)) {
        throw new KmsError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      }
      if (contentType !== 'application/x-amz-json-1.1')
        throw new KmsError('SerializationException', '');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        throw new KmsError(
          'SerializationException',
          'Start of structure or map found where not expected.',
        );
      }
      fake.requests.push({ target, contentType, body });
      const operation = target.startsWith('TrentService.')
        ? operations[target.slice(13)]
        : undefined;
      if (operation === undefined) throw new KmsError('UnknownOperationException', '');
      respond(res, 200, operation(body));
    } catch (err) {
      fake.refusals.push(err instanceof KmsError ? err.type : 'KMSInternalException');
      if (err instanceof KmsError) respond(res, 400, { __type: err.type, message: err.message });
      else respond(res, 500, { __type: 'KMSInternalException', message: 'internal error' });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeKms = {
    endpoint: `http://127.0.0.1:${port}`,
    requests: [],
    refusals: [],
    leakPlaintext: false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return fake;
}
