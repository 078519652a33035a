import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalHash } from '../protocol/index.ts';
import { newTlsIdentity, tlsKeyBinding } from './certificate.ts';

describe('a node TLS identity', () => {
  it('is a self-signed certificate that OpenSSL parses and verifies, for the key it binds', () => {
    const id = newTlsIdentity(new Date('2026-06-01T00:00:00Z'));
    const cert = new X509Certificate(id.certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(new Uint8Array(cert.publicKey.export({ type: 'spki', format: 'der' }))).toEqual(id.spki);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-05-31T00:00:00.000Z');
    expect(cert.subject).toMatch(/^CN=vigil node [0-9a-f]{16}$/);
    expect(id.binding).toEqual(tlsKeyBinding(id.spki));
    expect(id.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('is a new key at every start, and the binding is domain-separated and length-prefixed', () => {
    const a = newTlsIdentity();
    const b = newTlsIdentity();
    expect(a.spki).not.toEqual(b.spki);
    expect(a.binding).toEqual(canonicalHash('vigil/v1/attestation/tls-key', [a.spki]));
    expect(a.binding).not.toEqual(canonicalHash('vigil/v1/attestation/cluster-keys', [a.spki]));
  });
});
