import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { VaultError } from '../errors.ts';
import { AWS_NITRO_ROOT_G1_SHA256 } from './nitro-root.ts';

/** The checks of a Nitro chain that need no certificate parser, shared by both NitroPki. */

/** cabundle[0] must be the pinned AWS root, byte for byte (by its SHA-256). */
export function requirePinnedRoot(cabundle: readonly Uint8Array[]): void {
  const rootDer = cabundle[0];
  if (rootDer === undefined) {
    throw new VaultError('ATTESTATION_MALFORMED', 'attestation cabundle is empty');
  }
  if (bytesToHex(sha256(rootDer)) !== AWS_NITRO_ROOT_G1_SHA256) {
    throw new VaultError(
      'ATTESTATION_UNTRUSTED_ROOT',
      'cabundle[0] is not the pinned AWS Nitro root',
    );
  }
}

/** Names of the chain's certificates, root first, for error messages. */
export function chainLabels(cabundle: readonly Uint8Array[]): string[] {
  return [...cabundle.map((_, i) => `cabundle[${i}]`), 'leaf certificate'];
}

export function requireCaRole(isCa: boolean, isLeaf: boolean, label: string): void {
  if (isLeaf === isCa) {
    throw new VaultError(
      'ATTESTATION_BAD_CHAIN',
      `${label} ${isLeaf ? 'must not' : 'must'} be a CA`,
    );
  }
}

export function notIssuedBy(label: string, issuerLabel: string): VaultError {
  return new VaultError('ATTESTATION_BAD_CHAIN', `${label} is not signed by ${issuerLabel}`);
}

export function notP384(label: string): VaultError {
  return new VaultError('ATTESTATION_BAD_CHAIN', `${label} does not hold a P-384 key`);
}

/** Validity bounds in ms since the epoch (NaN when unreadable). */
export function requireValidAt(label: string, notBefore: number, notAfter: number, at: Date): void {
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) {
    throw new VaultError('ATTESTATION_MALFORMED', `${label} has an unreadable validity period`);
  }
  if (at.getTime() < notBefore) {
    throw new VaultError(
      'ATTESTATION_NOT_YET_VALID',
      `${label} is not valid until ${new Date(notBefore).toISOString()}`,
    );
  }
  if (at.getTime() > notAfter) {
    throw new VaultError(
      'ATTESTATION_EXPIRED',
      `${label} expired at ${new Date(notAfter).toISOString()}`,
    );
  }
}
