/**
 * A wallet's attestation trust as a verifier and as the fetch that reaches its vault's nodes over
 * attested TLS (Node: TLS sockets).
 */
import {
  type AttestationVerifier,
  attestedTlsFor,
  toHex,
  type VaultTrust,
} from '../vault/index.ts';
import { portableVerifierFor } from './backup.ts';
import type { AttestationTrust } from './wallet.ts';

/** The SDK's verifier; importing the vault's full face (above) has its Nitro chain checked by
 *  OpenSSL in this process (vault/enclave/nitro-pki.ts). */
export const verifierFor: (trust: AttestationTrust) => AttestationVerifier = portableVerifierFor;

function vaultTrustOf(trust: AttestationTrust): VaultTrust {
  if (trust.kind === 'insecure-dev') {
    return { kind: 'insecure-dev', devKeys: trust.devKeys.map((k) => toHex(k)) };
  }
  const pcrs: Record<number, string> = {};
  for (const [i, v] of Object.entries(trust.pcrs)) pcrs[Number(i)] = toHex(v);
  return { kind: 'nitro', pcrs };
}

/**
 * fetch for a wallet's vault nodes: an https:// node's TLS key is pinned once its attestation
 * verifies under the wallet's trust; plain http:// only with a dev trust (docs/operator-guide.md,
 * "Attested TLS").
 */
export function vaultFetchFor(trust: AttestationTrust): typeof fetch {
  return attestedTlsFor(vaultTrustOf(trust), () => {}).fetch;
}
