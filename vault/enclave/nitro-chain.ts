import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { VaultError } from '../errors.ts';
import { AWS_NITRO_ROOT_G1_SHA256 } from './nitro-root.ts';
import { certificateConstraints, checkPathConstraints } from './x509-constraints.ts';

/** Nitro's PKI is ECDSA P-384 from root to leaf. */
const NITRO_CURVE = 'secp384r1';

/** Parses a certificate and its key eagerly: OpenSSL may accept the outer DER of a damaged
 *  certificate and only fail when the key is read, and that must not escape as a crash. */
function parseCertificate(der: Uint8Array, label: string): X509Certificate {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(der);
    key = cert.publicKey;
  } catch {
    throw new VaultError(
      'ATTESTATION_MALFORMED',
      `${label} is not a readable DER X.509 certificate`,
    );
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== NITRO_CURVE) {
    throw new VaultError('ATTESTATION_BAD_CHAIN', `${label} does not hold a P-384 key`);
  }
  return cert;
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function requireValidAt(cert: X509Certificate, label: string, at: Date): void {
  const notBefore = new Date(cert.validFrom).getTime();
  const notAfter = new Date(cert.validTo).getTime();
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) {
    throw new VaultError('ATTESTATION_MALFORMED', `${label} has an unreadable validity period`);
  }
  if (at.getTime() < notBefore) {
    throw new VaultError(
      'ATTESTATION_NOT_YET_VALID',
      `${label} is not valid until ${cert.validFrom}`,
    );
  }
  if (at.getTime() > notAfter) {
    throw new VaultError('ATTESTATION_EXPIRED', `${label} expired at ${cert.validTo}`);
  }
}

/**
 * Verifies leaf ← cabundle[n-1] ← … ← cabundle[0] = pinned AWS root, every link signed by its
 * parent, every issuer a CA allowed to sign certificates within its pathLenConstraint, the leaf
 * not a CA and allowed to sign, all P-384, all valid at `at`.
 * Returns the leaf, whose key signs the COSE document.
 */
export function verifyNitroChain(
  leafDer: Uint8Array,
  cabundle: readonly Uint8Array[],
  at: Date,
): X509Certificate {
  const rootDer = cabundle[0];
  if (rootDer === undefined) {
    throw new VaultError('ATTESTATION_MALFORMED', 'attestation cabundle is empty');
  }
  const fingerprint = createHash('sha256').update(rootDer).digest('hex');
  if (fingerprint !== AWS_NITRO_ROOT_G1_SHA256) {
    throw new VaultError(
      'ATTESTATION_UNTRUSTED_ROOT',
      'cabundle[0] is not the pinned AWS Nitro root',
    );
  }
  const ders = [...cabundle, leafDer];
  const labels = [...cabundle.map((_, i) => `cabundle[${i}]`), 'leaf certificate'];
  const path = ders.map((der, i) => parseCertificate(der, labels[i]!));
  path.forEach((cert, i) => {
    const isLeaf = i === path.length - 1;
    if (isLeaf === cert.ca) {
      throw new VaultError(
        'ATTESTATION_BAD_CHAIN',
        `${labels[i]} ${isLeaf ? 'must not' : 'must'} be a CA`,
      );
    }
    const issuer = path[i - 1];
    if (issuer !== undefined && !issuedBy(cert, issuer)) {
      throw new VaultError(
        'ATTESTATION_BAD_CHAIN',
        `${labels[i]} is not signed by ${labels[i - 1]}`,
      );
    }
  });
  checkPathConstraints(
    ders.map((der, i) => certificateConstraints(der, labels[i]!)),
    labels,
  );
  path.forEach((cert, i) => {
    requireValidAt(cert, labels[i]!, at);
  });
  return path[path.length - 1]!;
}
