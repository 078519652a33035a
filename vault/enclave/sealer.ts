/**
 * Where the node's storage key comes from. The key (32 bytes) encrypts every value the vault
 * writes to disk (see storage-box.ts); the sealer decides who can recover it after a restart:
 * only this machine's file system (development) or only an attested enclave image (AWS KMS).
 */
export interface Sealer {
  readonly kind: 'key-file' | 'aws-kms';
  /** True when the key is protected by nothing stronger than file permissions. */
  readonly insecure: boolean;
  /** The 32-byte storage key; created on first start, recovered on later ones. */
  storageKey(): Promise<Uint8Array>;
}

export const STORAGE_KEY_BYTES = 32;
