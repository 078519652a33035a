import { canonicalHash } from './canonical.ts';

/** A cluster's public keys, as its attestation documents vouch for them. */
export interface ClusterKeys {
  clusterId: Uint8Array;
  clusterEncryptionKey: Uint8Array;
  receiptKey: Uint8Array;
}

/** What a node's attestation document vouches for in user_data: the cluster's public keys. */
export function clusterKeysBinding(keys: ClusterKeys): Uint8Array {
  return canonicalHash('vigil/v1/attestation/cluster-keys', [
    keys.clusterId,
    keys.clusterEncryptionKey,
    keys.receiptKey,
  ]);
}
