/**
 * KMS credentials for a node that has no instance metadata service (an enclave): the host agent
 * on the parent instance hands over the parent role's temporary credentials, as AWS's
 * kmstool-enclave does, and the node's KMS client signs with them. They are not secret from the
 * parent (it owns them) and prove nothing by themselves: KMS still releases the storage key only
 * inside a CiphertextForRecipient for an attested enclave (kms-sealer.ts).
 */
import { Reader, Writer } from '../../cluster/index.ts';
import { VaultError } from '../errors.ts';

/** The shape of the SDK's AwsCredentials (what `KMSClient({ credentials })` takes). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

const MAX_ID = 128;
const MAX_SECRET = 128;
const MAX_TOKEN = 8192;

/** Credentials as they cross the host agent's socket (length-prefixed; 0: no expiry). */
export function encodeAwsCredentials(c: AwsCredentials): Uint8Array {
  return new Writer()
    .str(c.accessKeyId)
    .str(c.secretAccessKey)
    .str(c.sessionToken ?? '')
    .u64(c.expiration?.getTime() ?? 0)
    .finish();
}

export function decodeAwsCredentials(bytes: Uint8Array): AwsCredentials {
  try {
    const r = new Reader(bytes);
    const accessKeyId = r.str(MAX_ID);
    const secretAccessKey = r.str(MAX_SECRET);
    const sessionToken = r.str(MAX_TOKEN);
    const expiration = r.u64();
    r.end();
    if (!/^[A-Z0-9]{16,128}$/.test(accessKeyId) || secretAccessKey.length === 0) {
      throw new Error('not an access key id and secret');
    }
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      ...(expiration ? { expiration: new Date(expiration) } : {}),
    };
  } catch (e) {
    throw new VaultError(
      'SEALER_CONFIG_INVALID',
      `credentials from the host agent: ${(e as Error).message}`,
      502,
    );
  }
}

export interface HostCredentialOptions {
  /** Ask again this long before the held credentials expire (default 5 minutes, as the SDK). */
  readonly refreshBeforeMs?: number;
  readonly now?: () => number;
}

/**
 * A credentials provider for an SDK client (`new KMSClient({ credentials })`) that asks the host
 * agent at first use and again whenever the credentials it holds are about to expire: a
 * rotation on the parent reaches the node on its next KMS call.
 */
export function hostCredentialProvider(
  ask: () => Promise<Uint8Array>,
  o: HostCredentialOptions = {},
): AwsCredentialsProvider {
  const before = o.refreshBeforeMs ?? 5 * 60_000;
  const now = o.now ?? Date.now;
  let held: AwsCredentials | null = null;
  let asking: Promise<AwsCredentials> | null = null;
  const fresh = (c: AwsCredentials) =>
    c.expiration === undefined || c.expiration.getTime() - before > now();
  return async () => {
    if (held && fresh(held)) return held;
    asking ??= ask()
      .then((bytes) => {
        held = decodeAwsCredentials(bytes);
        return held;
      })
      .finally(() => {
        asking = null;
      });
    return asking;
  };
}
