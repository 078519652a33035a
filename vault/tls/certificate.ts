/**
 * A node's TLS identity: a P-256 key generated in memory at every start (never written
 * anywhere) and a self-signed certificate for it. Nobody trusts the certificate for its
 * signature or names: clients trust the key because the node's attestation document binds its
 * SubjectPublicKeyInfo (`tlsKeyBinding`). The certificate is only the form TLS carries it in.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { oid, tlv } from '../enclave/der-writer.ts';
import { canonicalHash, toHex } from '../protocol/index.ts';

export interface TlsIdentity {
  /** PEM, in memory only: for the HTTPS server's secure context. */
  readonly keyPem: string;
  readonly certPem: string;
  /** DER SubjectPublicKeyInfo of the key, as the client sees it in the certificate. */
  readonly spki: Uint8Array;
  /** What the attestation document's user_data carries for this key. */
  readonly binding: Uint8Array;
}

/** user_data of the document that vouches for a TLS key: tag ‖ length-prefixed SPKI. */
export function tlsKeyBinding(spki: Uint8Array): Uint8Array {
  return canonicalHash('vigil/v1/attestation/tls-key', [spki]);
}

// DER, just what one self-signed v1 certificate needs.
const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const COMMON_NAME = oid('2.5.4.3');

function utcTime(d: Date): Uint8Array {
  const s = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const t = `${s.slice(2, 4)}${s.slice(5, 7)}${s.slice(8, 10)}${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(t, 'ascii'));
}

export function newTlsIdentity(now = new Date()): TlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const binding = tlsKeyBinding(spki);
  const name = seq(
    tlv(
      0x31,
      seq(COMMON_NAME, tlv(0x0c, Buffer.from(`vigil node ${toHex(binding).slice(0, 16)}`))),
    ),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f; // a positive INTEGER
  // Clients pin the attested key and ignore the validity; it starts a day early for skewed
  // clocks, and the key dies with the process long before the end.
  const day = 86_400_000;
  const tbs = seq(
    tlv(0x02, serial),
    ECDSA_SHA256,
    name,
    seq(utcTime(new Date(now.getTime() - day)), utcTime(new Date(now.getTime() + 3650 * day))),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), signature));
  const b64 = Buffer.from(cert).toString('base64').replace(/.{64}/g, '$&\n');
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    spki,
    binding,
  };
}
