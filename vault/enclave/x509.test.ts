import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeWithVectors } from '../../test/support/vectors.ts';
import { VaultError } from '../errors.ts';
import { parseBer, parseDer } from './ber.ts';
import { tlv } from './der-writer.ts';
import { chainOf, loadNitroSamples } from './nitro-vectors.test-support.ts';
import { certificateTime, parseCertificate } from './x509.ts';

const utcTime = (text: string) => certificateTime(parseBer(tlv(23, Buffer.from(text))));
const generalizedTime = (text: string) => certificateTime(parseBer(tlv(24, Buffer.from(text))));

describe('the DER side of our reader', () => {
  it('refuses what BER allows and DER does not: indefinite and non-minimal lengths', () => {
    const short = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05);
    expect(parseDer(short).children[0]!.content).toEqual(Uint8Array.of(5));
    for (const bad of [
      Uint8Array.of(0x30, 0x80, 0x02, 0x01, 0x05, 0, 0),
      Uint8Array.of(0x30, 0x81, 0x03, 0x02, 0x01, 0x05),
      Uint8Array.of(0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x05),
    ]) {
      expect(() => parseBer(bad)).not.toThrow();
      expect(() => parseDer(bad)).toThrow(VaultError);
    }
    const long = new Uint8Array(200);
    expect(parseDer(tlv(0x04, long)).content.length).toBe(200);
  });

  it('keeps each element as encoded, for the bytes a signature covers', () => {
    const node = parseDer(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa));
    expect(node.children[1]!.raw).toEqual(Uint8Array.of(0x04, 0x01, 0xaa));
    expect(node.raw.length).toBe(8);
  });
});

describe('certificate validity times (RFC 5280 §4.1.2.5)', () => {
  it('reads UTCTime with its 1950..2049 window and GeneralizedTime, to the second', () => {
    expect(utcTime('491231235959Z')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(utcTime('500101000000Z')).toBe(Date.UTC(1950, 0, 1));
    expect(generalizedTime('20491028132805Z')).toBe(Date.UTC(2049, 9, 28, 13, 28, 5));
  });

  it('gives NaN for anything that is not a real instant in the strict form', () => {
    for (const text of [
      '230230000000Z',
      '231301000000Z',
      '230101240000Z',
      '230101006000Z',
      '2301010000Z',
      '230101000000+0100',
      '230101000000',
      '23010100000aZ',
    ]) {
      expect(utcTime(text), text).toBeNaN();
    }
    expect(generalizedTime('20230101000000.5Z')).toBeNaN();
    expect(generalizedTime('230101000000Z')).toBeNaN();
  });
});

describeWithVectors('nitro', 'X.509 reader on real Nitro certificates', () => {
  it('reads what OpenSSL reads: names, validity, key', () => {
    const { leaf, cabundle } = chainOf(loadNitroSamples()[1]!.doc);
    for (const der of [...cabundle, leaf]) {
      const ours = parseCertificate(der, 'certificate');
      const openssl = new X509Certificate(der);
      expect(ours.version).toBe(3);
      expect(certificateTime(ours.notBefore)).toBe(new Date(openssl.validFrom).getTime());
      expect(certificateTime(ours.notAfter)).toBe(new Date(openssl.validTo).getTime());
      const spki = openssl.publicKey.export({ type: 'spki', format: 'der' });
      expect(Buffer.from(ours.keyBits.subarray(1)).equals(spki.subarray(-97))).toBe(true);
      expect(ours.keyCurve).toBe('1.3.132.0.34');
    }
    const [root] = cabundle;
    const rootCert = parseCertificate(root!, 'root');
    expect(Buffer.from(rootCert.issuer).equals(Buffer.from(rootCert.subject))).toBe(true);
  });

  it('refuses bytes after the certificate and a non-minimal INTEGER', () => {
    const { leaf } = chainOf(loadNitroSamples()[1]!.doc);
    expect(() => parseCertificate(Uint8Array.of(...leaf, 0), 'leaf')).toThrow(/readable DER/);
    // the serial number (after the version) with a redundant leading zero byte
    const cert = parseBer(leaf);
    const tbs = cert.children[0]!;
    const serial = tbs.children[1]!;
    const padded = tlv(0x02, Uint8Array.of(0, ...serial.content));
    const fields = tbs.children.map((f, i) => (i === 1 ? padded : f.raw));
    const rebuilt = tlv(0x30, tlv(0x30, ...fields), cert.children[1]!.raw, cert.children[2]!.raw);
    expect(serial.content[0]! < 0x80).toBe(true);
    expect(() => parseCertificate(rebuilt, 'leaf')).toThrow(/non-minimal INTEGER/);
  });
});
