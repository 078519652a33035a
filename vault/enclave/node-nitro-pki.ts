import { type KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto';
import { VaultError } from '../errors.ts';
import { type CertificateReader, notP384, verifyChainWith } from './nitro-chain.ts';
import type { NitroPki } from './nitro-pki.ts';
import { parseCertificate as requireDerCertificate } from './x509.ts';

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

const openSsl: CertificateReader<X509Certificate> = {
  read: parseCertificate,
  isCa: (cert) => cert.ca,
  issuedBy,
  validity: (cert) => [new Date(cert.validFrom).getTime(), new Date(cert.validTo).getTime()],
  verifyEs384: (leaf, message, signature) =>
    verifySignature(
      'sha384',
      message,
      { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    ),
};

/** OpenSSL's X.509 through node:crypto: the Node shells' NitroPki (see nitro-pki.ts). */
export const nodeNitroPki: NitroPki = {
  verifyChain: (leafDer, cabundle, at) => verifyChainWith(openSsl, leafDer, cabundle, at),
};
