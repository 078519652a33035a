/**
 * A cluster member's identity: a fresh static X25519 key per process start (ids are never
 * reused, P4) and an attestation document binding it; peers admit a key only after verifying it.
 */
import { randomBytes } from 'node:crypto';
import { keyPairFromPrivate, type StaticKeyPair } from '../../cluster/index.ts';
import type { AttestationProvider, AttestationVerifier } from '../enclave/index.ts';
import { bytesEqual, canonicalHash, toHex } from '../protocol/index.ts';
import type { Member } from './codec.ts';

export function nodeKeyBinding(publicKey: Uint8Array): Uint8Array {
  return canonicalHash('vigil/v1/cluster/node-static-key', [publicKey]);
}

export function nodeIdOf(publicKey: Uint8Array): string {
  return toHex(publicKey).slice(0, 16);
}

export interface Identity {
  id: string;
  staticKey: StaticKeyPair;
  attestation: Uint8Array;
}

export async function newIdentity(provider: AttestationProvider): Promise<Identity> {
  const staticKey = keyPairFromPrivate(randomBytes(32));
  const attestation = await provider.attest({
    publicKey: staticKey.publicKey,
    userData: nodeKeyBinding(staticKey.publicKey),
  });
  return { id: nodeIdOf(staticKey.publicKey), staticKey, attestation };
}

/** True when the member's document verifies and binds its static key and id. */
export function memberAttested(verifier: AttestationVerifier, m: Member): boolean {
  if (m.id !== nodeIdOf(m.publicKey)) return false;
  try {
    const v = verifier.verify(m.attestation, {
      expectedUserData: nodeKeyBinding(m.publicKey),
      expectedPublicKey: m.publicKey,
      maxAgeMs: 365 * 24 * 3600 * 1000,
    });
    return v.publicKey !== null && bytesEqual(v.publicKey, m.publicKey);
  } catch {
    return false;
  }
}
