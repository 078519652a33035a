import { X509Certificate } from 'node:crypto';
import { decode } from 'cborg';
import { readVector, readVectorText } from '../../test/support/vectors.ts';

/** The real Nitro documents in shared/vectors/nitro/evervault, with what is known of each. */
export interface NitroSample {
  name: string;
  doc: Uint8Array;
  timestamp: number;
  debug: boolean;
  bytes: number;
}

/** The hex document in the second dNSName SAN of an Evervault cage certificate. */
export function embeddedDocument(pem: string): { doc: Uint8Array; cert: X509Certificate } {
  const cert = new X509Certificate(pem);
  const names = (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:'));
  const hex = /^[0-9a-f]+/.exec(names[1]?.slice(4) ?? '')?.[0] ?? '';
  return { doc: Buffer.from(hex, 'hex'), cert };
}

export function loadNitroSamples(): NitroSample[] {
  const dir = 'nitro/evervault';
  const base64 = Buffer.from(readVectorText(dir, 'valid-attestation-doc-base64'), 'base64');
  const debugPem = embeddedDocument(
    readVectorText(dir, 'debug-mode-cert-containing-attestation-doc-18-1-23.pem'),
  ).doc;
  const prodPem = embeddedDocument(
    readVectorText(dir, 'non-debug-cert-containing-attestation-document-18-1-23.pem'),
  ).doc;
  return [
    { name: 'ga base64 (debug)', doc: base64, timestamp: 1695049410860, debug: true, bytes: 4748 },
    {
      name: 'beta valid',
      doc: readVector(dir, 'valid-attestation-doc-bytes'),
      timestamp: 1665651482136,
      debug: false,
      bytes: 4654,
    },
    {
      name: 'beta debug',
      doc: readVector(dir, 'debug-mode-attestation-doc-bytes'),
      timestamp: 1665582606081,
      debug: true,
      bytes: 4426,
    },
    {
      name: 'cage cert (debug)',
      doc: debugPem,
      timestamp: 1674054632312,
      debug: true,
      bytes: 4776,
    },
    { name: 'cage cert', doc: prodPem, timestamp: 1674047239280, debug: false, bytes: 4775 },
  ];
}

/** The leaf certificate and cabundle a document carries (no checks: test input only). */
export function chainOf(doc: Uint8Array): { leaf: Uint8Array; cabundle: Uint8Array[] } {
  const cose = decode(doc, { useMaps: true }) as Uint8Array[];
  const payload = decode(cose[2]!, { useMaps: true }) as Map<string, unknown>;
  return {
    leaf: payload.get('certificate') as Uint8Array,
    cabundle: payload.get('cabundle') as Uint8Array[],
  };
}
