import { generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  DecryptCommand,
  type DecryptCommandOutput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandOutput,
  type KMSClient,
  type RecipientInfo,
} from '@aws-sdk/client-kms';
import { VaultError } from '../errors.ts';
import type { AttestationProvider } from './attestation.ts';
import { decryptEnvelopedData } from './cms.ts';
import { writeFileAtomic } from './durable-file.ts';
import { type Sealer, STORAGE_KEY_BYTES } from './sealer.ts';

/**
 * Keeps the KMS-wrapped data key between starts: a file, or (in an enclave, which has no disk)
 * the node's host agent. Only KMS can open it, for the measured image; a keeper that loses it
 * loses the node's stored records, as losing the disk would.
 */
export interface BlobKeeper {
  /** Where, for messages. */
  readonly where: string;
  read(): Promise<Uint8Array | null>;
  /** Durable before it resolves. */
  write(blob: Uint8Array): Promise<void>;
}

export function fileBlobKeeper(path: string): BlobKeeper {
  return {
    where: path,
    async read() {
      try {
        return new Uint8Array(await readFile(path));
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    write: (blob) => writeFileAtomic(path, blob),
  };
}

export interface RecipientKeyPair {
  readonly publicKeySpki: Uint8Array;
  readonly privateKey: KeyObject;
}

export interface KmsSealerOptions {
  /** A configured @aws-sdk/client-kms client (region, credentials, endpoint). */
  readonly client: KMSClient;
  /** KMS key id, ARN or alias whose key policy requires the enclave's measurements. */
  readonly keyId: string;
  /** Where the data key's CiphertextBlob is kept between starts (not secret: only KMS opens it). */
  readonly blob: BlobKeeper;
  /** Produces the attestation document that carries the ephemeral RSA key (Nitro in production). */
  readonly attestation: AttestationProvider;
  /** Optional application binding placed in the document's user_data. */
  readonly userData?: Uint8Array;
  /** Source of the ephemeral recipient key; default a fresh RSA-2048 pair per start. */
  readonly recipientKey?: () => Promise<RecipientKeyPair>;
}

async function freshRsa2048(): Promise<RecipientKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => {
      if (err) return reject(err);
      resolve({ publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }), privateKey });
    });
  });
}

function kmsFailure(operation: string, err: unknown): VaultError {
  // KMS error names and messages describe the request (key, policy), never key material.
  const name = err instanceof Error ? err.name : 'UnknownError';
  const message = err instanceof Error ? err.message : String(err);
  return new VaultError('SEALER_KMS_FAILED', `KMS ${operation} failed: ${name}: ${message}`, 503);
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

/**
 * Production sealer (AWS KMS with Nitro attestation). First start: GenerateDataKey (AES_256)
 * with a Recipient, persist CiphertextBlob. Later starts: Decrypt that blob with a Recipient.
 * KMS only answers a Recipient request whose attestation document satisfies the key policy
 * (kms:RecipientAttestation:ImageSha384 / PCRn), and then returns the key only inside
 * CiphertextForRecipient, a CMS envelope to the enclave's ephemeral RSA key; the parent instance
 * relaying the traffic never sees it. A response carrying Plaintext is refused, not used.
 */
export class KmsSealer implements Sealer {
  readonly kind = 'aws-kms' as const;
  readonly insecure: boolean;
  readonly #options: KmsSealerOptions;

  constructor(options: KmsSealerOptions) {
    if (options.keyId.length === 0)
      throw new VaultError('SEALER_CONFIG_INVALID', 'KMS key id is empty', 500);
    this.#options = options;
    this.insecure = options.attestation.insecure;
  }

  async storageKey(): Promise<Uint8Array> {
    const recipientKey = await (this.#options.recipientKey ?? freshRsa2048)();
    const document = await this.#options.attestation.attest({
      publicKey: recipientKey.publicKeySpki,
      ...(this.#options.userData === undefined ? {} : { userData: this.#options.userData }),
    });
    const recipient: RecipientInfo = {
      AttestationDocument: document,
      KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
    };
    const blob = await this.#readBlob();
    const envelope =
      blob === null ? await this.#generate(recipient) : await this.#decrypt(blob, recipient);
    const key = decryptEnvelopedData(envelope, recipientKey.privateKey);
    if (key.length !== STORAGE_KEY_BYTES) {
      key.fill(0);
      throw new VaultError(
        'SEALER_KMS_BAD_RESPONSE',
        `KMS data key is not ${STORAGE_KEY_BYTES} bytes`,
        502,
      );
    }
    return key;
  }

  async #readBlob(): Promise<Uint8Array | null> {
    const blob = await this.#options.blob.read();
    if (blob !== null && blob.length === 0) {
      throw new VaultError('SEALER_BLOB_INVALID', `${this.#options.blob.where} is empty`, 500);
    }
    return blob;
  }

  async #generate(recipient: RecipientInfo): Promise<Uint8Array> {
    const command = new GenerateDataKeyCommand({
      KeyId: this.#options.keyId,
      KeySpec: 'AES_256',
      Recipient: recipient,
    });
    let response: GenerateDataKeyCommandOutput;
    try {
      response = await this.#options.client.send(command);
    } catch (err) {
      throw kmsFailure('GenerateDataKey', err);
    }
    const envelope = this.#recipientCiphertext('GenerateDataKey', response);
    if (!(response.CiphertextBlob instanceof Uint8Array) || response.CiphertextBlob.length === 0) {
      throw new VaultError(
        'SEALER_KMS_BAD_RESPONSE',
        'KMS GenerateDataKey returned no CiphertextBlob',
        502,
      );
    }
    // Persist before using the key: a key we could not recover next start must never encrypt data.
    await this.#options.blob.write(response.CiphertextBlob);
    return envelope;
  }

  async #decrypt(blob: Uint8Array, recipient: RecipientInfo): Promise<Uint8Array> {
    const command = new DecryptCommand({
      CiphertextBlob: blob,
      KeyId: this.#options.keyId,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      Recipient: recipient,
    });
    let response: DecryptCommandOutput;
    try {
      response = await this.#options.client.send(command);
    } catch (err) {
      throw kmsFailure('Decrypt', err);
    }
    return this.#recipientCiphertext('Decrypt', response);
  }

  #recipientCiphertext(
    operation: string,
    response: { CiphertextForRecipient?: Uint8Array; Plaintext?: Uint8Array },
  ): Uint8Array {
    if (response.Plaintext !== undefined && response.Plaintext.length > 0) {
      response.Plaintext.fill(0);
      throw new VaultError(
        'SEALER_KMS_PLAINTEXT_RETURNED',
        `KMS ${operation} returned the key in plaintext; refusing it (was the Recipient dropped?)`,
        502,
      );
    }
    const envelope = response.CiphertextForRecipient;
    if (!(envelope instanceof Uint8Array) || envelope.length === 0) {
      throw new VaultError(
        'SEALER_KMS_BAD_RESPONSE',
        `KMS ${operation} returned no CiphertextForRecipient`,
        502,
      );
    }
    return envelope;
  }
}
