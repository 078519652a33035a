/**
 * The cluster identity a node holds: its id and the private keys behind the cluster's public
 * encryption and receipt keys. Stored only sealed under the storage key.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import { x25519PublicKey } from '../protocol/index.ts';

export interface NodeKeys {
  clusterId: Uint8Array;
  clusterSecretKey: Uint8Array;
  receiptSecretKey: Uint8Array;
}

export interface ClusterPublicKeys {
  clusterId: Uint8Array;
  clusterEncryptionKey: Uint8Array;
  receiptKey: Uint8Array;
}

const VERSION = 1;

export function generateNodeKeys(random: (n: number) => Uint8Array): NodeKeys {
  return {
    clusterId: random(32),
    clusterSecretKey: random(32),
    receiptSecretKey: schnorr.utils.randomSecretKey(random(48)),
  };
}

export function publicKeysOf(keys: NodeKeys): ClusterPublicKeys {
  return {
    clusterId: keys.clusterId,
    clusterEncryptionKey: x25519PublicKey(keys.clusterSecretKey),
    receiptKey: schnorr.getPublicKey(keys.receiptSecretKey),
  };
}

export function encodeNodeKeys(k: NodeKeys): Uint8Array {
  const out = new Uint8Array(1 + 96);
  out[0] = VERSION;
  out.set(k.clusterId, 1);
  out.set(k.clusterSecretKey, 33);
  out.set(k.receiptSecretKey, 65);
  return out;
}

export function decodeNodeKeys(bytes: Uint8Array): NodeKeys {
  if (bytes.length !== 97 || bytes[0] !== VERSION) {
    throw new VaultError('STORAGE_CORRUPT', 'stored node keys have an unknown layout', 500);
  }
  return {
    clusterId: bytes.slice(1, 33),
    clusterSecretKey: bytes.slice(33, 65),
    receiptSecretKey: bytes.slice(65, 97),
  };
}
