import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { VaultError } from '../errors.ts';
import { bytesEqual } from '../protocol/hex.ts';
import { expectConstructed, expectOid, TAG_SEQUENCE } from './ber.ts';
import { type CertificateReader, notP384, verifyChainWith } from './nitro-chain.ts';
import type { NitroPki } from './nitro-pki.ts';
import { type Certificate, certificateTime, parseCertificate } from './x509.ts';

const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const SECP384R1 = '1.3.132.0.34';
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
/** The NSM does not normalise s (real documents carry high-s signatures): accept both halves. */
const ECDSA_OPTIONS = { lowS: false } as const;

/** Key algorithms that name a key other than EC: a wrong key, not a broken certificate. */
const OTHER_KEY_ALGORITHMS = new Set([
  '1.2.840.113549.1.1.1', // rsaEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.10040.4.1', // DSA
  '1.3.101.110', // X25519
  '1.3.101.111', // X448
  '1.3.101.112', // Ed25519
  '1.3.101.113', // Ed448
]);
/** Curves with a reader of their own: a valid point on one is a wrong key. */
const CURVES = new Map<string, { Point: { fromBytes(bytes: Uint8Array): unknown } }>([
  [SECP384R1, p384],
  ['1.2.840.10045.3.1.7', p256],
  ['1.3.132.0.35', p521],
  ['1.3.132.0.10', secp256k1],
]);

/**
 * The SEC1 point of a P-384 key, validated on the curve. A readable key of another kind is a bad
 * chain; a key algorithm or curve we cannot read, or a point off its curve, is a broken
 * certificate. Unused bits of the key's BIT STRING are not part of the key (X.690 §8.6.2): they
 * are cleared before it is read, and their presence then makes it the wrong key.
 */
function p384Key(cert: Certificate, label: string): Uint8Array {
  const { keyAlgorithm, keyCurve, keyBits } = cert;
  if (OTHER_KEY_ALGORITHMS.has(keyAlgorithm)) throw notP384(label);
  const unused = keyBits[0]!;
  const point = keyBits.slice(1);
  if (unused > 0) point[point.length - 1]! &= 0xff << unused;
  const hybrid = point[0] === 6 || point[0] === 7;
  const curve = keyAlgorithm === EC_PUBLIC_KEY ? CURVES.get(keyCurve ?? '') : undefined;
  try {
    if (curve === undefined) throw new Error('unknown key type');
    if (hybrid) {
      // X9.62's hybrid form (y and its parity both given), which OpenSSL reads: a readable key,
      // but not in the form Nitro's certificates use
      const y = point[point.length - 1]!;
      if ((y & 1) !== (point[0]! & 1)) throw new Error('hybrid point with the wrong parity');
      curve.Point.fromBytes(Uint8Array.of(4, ...point.subarray(1)));
    } else {
      curve.Point.fromBytes(point);
    }
  } catch {
    throw new VaultError('ATTESTATION_MALFORMED', `${label} holds no readable key`);
  }
  if (curve !== p384 || unused !== 0 || hybrid) throw notP384(label);
  return point;
}

/** ecdsa-with-SHA384 with absent parameters (RFC 5758 §3.2). */
function isEcdsaSha384(algorithm: Certificate['innerAlgorithm']): boolean {
  try {
    const parts = expectConstructed(algorithm, TAG_SEQUENCE, 'AlgorithmIdentifier');
    return parts.length === 1 && expectOid(parts[0], 'algorithm') === ECDSA_WITH_SHA384;
  } catch {
    return false;
  }
}

function issuedBy(cert: Certificate, issuer: Certificate, issuerKey: Uint8Array): boolean {
  if (cert.version !== 3) return false;
  if (!bytesEqual(cert.issuer, issuer.subject)) return false;
  if (!isEcdsaSha384(cert.innerAlgorithm)) return false;
  if (!bytesEqual(cert.innerAlgorithm.raw, cert.outerAlgorithm.raw)) return false;
  if (cert.signatureValue[0] !== 0) return false;
  try {
    const signature = cert.signatureValue.subarray(1);
    return p384.verify(signature, cert.tbs, issuerKey, { ...ECDSA_OPTIONS, format: 'der' });
  } catch {
    return false;
  }
}

interface ReadCertificate {
  readonly cert: Certificate;
  readonly key: Uint8Array;
}

const ours: CertificateReader<ReadCertificate> = {
  read(der, label) {
    const cert = parseCertificate(der, label);
    return { cert, key: p384Key(cert, label) };
  },
  isCa: (_, { ca, keyCertSign }) => ca && keyCertSign !== false,
  issuedBy: (child, issuer) => issuedBy(child.cert, issuer.cert, issuer.key),
  validity: ({ cert }) => [certificateTime(cert.notBefore), certificateTime(cert.notAfter)],
  verifyEs384(leaf, message, signature) {
    try {
      return p384.verify(signature, message, leaf.key, ECDSA_OPTIONS);
    } catch {
      return false;
    }
  },
};

/** Our DER reader and @noble/curves' p384: the NitroPki that runs everywhere (nitro-pki.ts). */
export const portableNitroPki: NitroPki = {
  verifyChain: (leafDer, cabundle, at) => verifyChainWith(ours, leafDer, cabundle, at),
};
