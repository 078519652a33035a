import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { VaultError } from '../errors.ts';
import type { NitroLeaf } from './nitro-pki.ts';
import { AWS_NITRO_ROOT_G1_SHA256 } from './nitro-root.ts';
import {
  type CertificateConstraints,
  certificateConstraints,
  checkPathConstraints,
} from './x509-constraints.ts';

/**
 * The walk of a Nitro chain, shared by both NitroPki (nitro-pki.ts) so they check the same things
 * in the same order and so fail with the same code; each brings its own certificate reader.
 */
export interface CertificateReader<C> {
  /** Parses one certificate and its key: ATTESTATION_MALFORMED, or _BAD_CHAIN for a key that is
   *  readable but not P-384. */
  read(der: Uint8Array, label: string): C;
  /** Whether it may act as a CA (basicConstraints cA, and keyCertSign when keyUsage is present). */
  isCa(cert: C, constraints: CertificateConstraints): boolean;
  /** Whether `issuer` issued and signed `cert`. */
  issuedBy(cert: C, issuer: C): boolean;
  /** Validity bounds in ms since the epoch, NaN when unreadable. */
  validity(cert: C): readonly [number, number];
  /** ES384 with the leaf's key. */
  verifyEs384(leaf: C, message: Uint8Array, signature: Uint8Array): boolean;
}

/**
 * leaf ← cabundle[n-1] ← … ← cabundle[0] = the pinned root: parsed, each issuer a CA and the
 * signer of the next, the leaf not a CA, the path constraints held, all valid at `at`.
 */
export function verifyChainWith<C>(
  reader: CertificateReader<C>,
  leafDer: Uint8Array,
  cabundle: readonly Uint8Array[],
  at: Date,
): NitroLeaf {
  requirePinnedRoot(cabundle);
  const ders = [...cabundle, leafDer];
  const labels = chainLabels(cabundle);
  const path = ders.map((der, i) => reader.read(der, labels[i]!));
  const constraints = ders.map((der, i) => certificateConstraints(der, labels[i]!));
  path.forEach((cert, i) => {
    requireCaRole(reader.isCa(cert, constraints[i]!), i === path.length - 1, labels[i]!);
    const issuer = path[i - 1];
    if (issuer !== undefined && !reader.issuedBy(cert, issuer)) {
      throw new VaultError(
        'ATTESTATION_BAD_CHAIN',
        `${labels[i]} is not signed by ${labels[i - 1]}`,
      );
    }
  });
  checkPathConstraints(constraints, labels);
  path.forEach((cert, i) => {
    requireValidAt(labels[i]!, ...reader.validity(cert), at);
  });
  const leaf = path[path.length - 1]!;
  const [notBefore, notAfter] = reader.validity(leaf);
  return {
    notBefore,
    notAfter,
    verifyEs384: (message, signature) => reader.verifyEs384(leaf, message, signature),
  };
}

/** cabundle[0] must be the pinned AWS root, byte for byte (by its SHA-256). */
function requirePinnedRoot(cabundle: readonly Uint8Array[]): void {
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
function chainLabels(cabundle: readonly Uint8Array[]): string[] {
  return [...cabundle.map((_, i) => `cabundle[${i}]`), 'leaf certificate'];
}

function requireCaRole(isCa: boolean, isLeaf: boolean, label: string): void {
  if (isLeaf === isCa) {
    throw new VaultError(
      'ATTESTATION_BAD_CHAIN',
      `${label} ${isLeaf ? 'must not' : 'must'} be a CA`,
    );
  }
}

export function notP384(label: string): VaultError {
  return new VaultError('ATTESTATION_BAD_CHAIN', `${label} does not hold a P-384 key`);
}

/** Validity bounds in ms since the epoch (NaN when unreadable). */
function requireValidAt(label: string, notBefore: number, notAfter: number, at: Date): void {
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
