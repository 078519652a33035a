import { type KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto';
import { VaultError } from '../errors.ts';
import {
  chainLabels,
  notIssuedBy,
  notP384,
  requireCaRole,
  requirePinnedRoot,
  requireValidAt,
} from './chain-checks.ts';
import type { NitroLeaf, NitroPki } from './nitro-pki.ts';
import { parseCertificate as requireDerCertificate } from './x509.ts';
import { certificateConstraints, checkPathConstraints } from './x509-constraints.ts';

/** Nitro's PKI is ECDSA P-384 from root to leaf. */
const NITRO_CURVE = 'secp384r1';

/**
 * Parses a certificate and its key eagerly: OpenSSL may accept the outer DER of a damaged
 * certificate and only fail when the key is read, and that must not escape as a crash. Our DER
 * reader sees it first: OpenSSL also takes BER lengths and ignores bytes after the certificate,
 * which a strict verifier must not (and the portable one does not).
 */
function parseCertificate(der: Uint8Array, label: string): X509Certificate {
  requireDerCertificate(der, label);
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
    throw notP384(label);
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

/** OpenSSL's X.509 through node:crypto: the Node shells' NitroPki (see nitro-pki.ts). */
export const nodeNitroPki: NitroPki = {
  verifyChain(leafDer, cabundle, at): NitroLeaf {
    requirePinnedRoot(cabundle);
    const ders = [...cabundle, leafDer];
    const labels = chainLabels(cabundle);
    const path = ders.map((der, i) => parseCertificate(der, labels[i]!));
    path.forEach((cert, i) => {
      requireCaRole(cert.ca, i === path.length - 1, labels[i]!);
      const issuer = path[i - 1];
      if (issuer !== undefined && !issuedBy(cert, issuer)) {
        throw notIssuedBy(labels[i]!, labels[i - 1]!);
      }
    });
    checkPathConstraints(
      ders.map((der, i) => certificateConstraints(der, labels[i]!)),
      labels,
    );
    path.forEach((cert, i) => {
      requireValidAt(
        labels[i]!,
        new Date(cert.validFrom).getTime(),
        new Date(cert.validTo).getTime(),
        at,
      );
    });
    const leaf = path[path.length - 1]!;
    return {
      notBefore: new Date(leaf.validFrom).getTime(),
      notAfter: new Date(leaf.validTo).getTime(),
      verifyEs384: (message, signature) =>
        verifySignature(
          'sha384',
          message,
          { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
          signature,
        ),
    };
  },
};
