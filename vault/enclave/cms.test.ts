import { execFileSync } from 'node:child_process';
import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  randomBytes,
  constants as rsa,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithVectors, readVector, readVectorText } from '../../test/support/vectors.ts';
import { VaultError } from '../errors.ts';
import { decryptEnvelopedData, parseEnvelopedData } from './cms.ts';
import { buildEnvelope, envelopeTo } from './cms-builder.test-support.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof VaultError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

/** Replaces the first occurrence of `from` in `bytes` by `to` (same length). */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from(from, 'hex'));
  if (at < 0) throw new Error(`pattern ${from} not found`);
  const out = Uint8Array.from(bytes);
  out.set(Buffer.from(to, 'hex'), at);
  return out;
}

describeWithVectors('kms', 'CMS envelopes returned by KMS (parser vectors)', () => {
  const expected = JSON.parse(readVectorText('kms', 'cms_expected_fields.json'));

  for (const file of ['cms_enveloped_from_kms.ber', 'cms_enveloped_from_kms_ctx_specific.ber']) {
    it(`${file}: every field equals upstream's expected parse`, () => {
      const bytes = readVector('kms', file);
      const want = expected[file];
      expect(bytes.length).toBe(want.length);
      const envelope = parseEnvelopedData(bytes);
      expect(hex(envelope.recipient.encryptedKey)).toBe(want.encrypted_key_hex);
      expect(hex(envelope.iv)).toBe(want.iv_hex);
      expect(hex(envelope.ciphertext)).toBe(want.ciphertext_hex);
      expect(envelope.version).toBe(2);
      expect(envelope.recipient.version).toBe(2);
      expect(envelope.recipient.subjectKeyIdentifier?.length).toBe(32);
      expect(envelope.contentType).toBe('1.2.840.113549.1.7.1');
    });

    it(`${file}: every truncation is refused as malformed`, () => {
      const bytes = readVector('kms', file);
      for (let length = 0; length < bytes.length; length++) {
        expect(
          codeOf(() => parseEnvelopedData(bytes.subarray(0, length))),
          `length ${length}`,
        ).toBe('CMS_MALFORMED');
      }
      expect(codeOf(() => parseEnvelopedData(Buffer.concat([bytes, Buffer.of(0)])))).toBe(
        'CMS_MALFORMED',
      );
    });
  }

  it('refuses wrong algorithms and content types', () => {
    const bytes = readVector('kms', 'cms_enveloped_from_kms.ber');
    const cases: Array<[string, string, string]> = [
      ['2a864886f70d010703', '2a864886f70d010702', 'signedData instead of envelopedData'],
      ['2a864886f70d010107', '2a864886f70d010101', 'rsaEncryption (PKCS#1 v1.5) instead of OAEP'],
      ['608648016503040201', '608648016503040202', 'SHA-384 instead of SHA-256'],
      ['2a864886f70d010108', '2a864886f70d010109', 'not MGF1'],
      ['60864801650304012a', '608648016503040102', 'AES-128-CBC instead of AES-256-CBC'],
      ['2a864886f70d010701', '2a864886f70d010706', 'encrypted-data instead of data'],
    ];
    for (const [from, to, why] of cases) {
      expect(
        codeOf(() => parseEnvelopedData(patch(bytes, from, to))),
        why,
      ).toBe('CMS_UNSUPPORTED');
    }
  });

  it('never crashes on a flipped byte', () => {
    const bytes = readVector('kms', 'cms_enveloped_from_kms_ctx_specific.ber');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Uint8Array.from(bytes);
      flipped[i]! ^= 0x41;
      const code = codeOf(() => decryptEnvelopedData(flipped, privateKey));
      expect(code, `byte ${i}`).toMatch(/^CMS_(MALFORMED|UNSUPPORTED|DECRYPT_FAILED)$/);
    }
  });
});

describe('CMS decryption of envelopes made by openssl cms', () => {
  let dir: string;
  let enclaveKey: KeyObject;
  let datakey: Buffer;
  let envelope: Buffer;

  function opensslEncrypt(name: string, args: string[], input = 'datakey.bin'): Buffer {
    execFileSync('openssl', [
      'cms',
      '-encrypt',
      '-binary',
      '-stream',
      '-keyid',
      '-recip',
      join(dir, 'enclave.crt'),
      ...args,
      '-in',
      join(dir, input),
      '-outform',
      'DER',
      '-out',
      join(dir, name),
    ]);
    return readFileSync(join(dir, name));
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-cms-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'enclave.key'),
        '-out',
        join(dir, 'enclave.crt'),
        '-subj',
        '/CN=test-enclave',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    enclaveKey = createPrivateKey(readFileSync(join(dir, 'enclave.key')));
    datakey = randomBytes(32);
    writeFileSync(join(dir, 'datakey.bin'), datakey);
    envelope = opensslEncrypt('local.cms.ber', [
      '-aes-256-cbc',
      '-keyopt',
      'rsa_padding_mode:oaep',
      '-keyopt',
      'rsa_oaep_md:sha256',
      '-keyopt',
      'rsa_mgf1_md:sha256',
    ]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decrypts the 32-byte data key and matches openssl cms -decrypt', () => {
    expect(envelope[1]).toBe(0x80); // BER indefinite length, as KMS sends
    const parsed = parseEnvelopedData(envelope);
    expect(parsed.recipient.subjectKeyIdentifier?.length).toBe(20);
    expect(parsed.ciphertext.length).toBe(48);
    expect(hex(decryptEnvelopedData(envelope, enclaveKey))).toBe(hex(datakey));
    const roundTrip = execFileSync('openssl', [
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      join(dir, 'local.cms.ber'),
      '-inkey',
      join(dir, 'enclave.key'),
      '-recip',
      join(dir, 'enclave.crt'),
    ]);
    expect(hex(roundTrip)).toBe(hex(datakey));
  });

  it('decrypts KMS-shaped envelopes, constructed and primitive content', () => {
    const spki = createPublicKey(enclaveKey).export({ type: 'spki', format: 'der' });
    for (const constructed of [true, false]) {
      const kmsShaped = envelopeTo(spki, datakey, constructed);
      expect(parseEnvelopedData(kmsShaped).recipient.subjectKeyIdentifier?.length).toBe(32);
      expect(hex(decryptEnvelopedData(kmsShaped, enclaveKey))).toBe(hex(datakey));
      // The builder used by the KMS fake must itself be understood by OpenSSL.
      writeFileSync(join(dir, 'kms-shaped.ber'), kmsShaped);
      const byOpenssl = execFileSync('openssl', [
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        join(dir, 'kms-shaped.ber'),
        '-inkey',
        join(dir, 'enclave.key'),
      ]);
      expect(hex(byOpenssl)).toBe(hex(datakey));
    }
  });

  it('fails cleanly with another RSA key', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(codeOf(() => decryptEnvelopedData(envelope, privateKey))).toBe('CMS_DECRYPT_FAILED');
  });

  it('refuses envelopes outside the KMS profile', () => {
    const pkcs1 = opensslEncrypt('pkcs1.ber', ['-aes-256-cbc']);
    expect(codeOf(() => decryptEnvelopedData(pkcs1, enclaveKey))).toBe('CMS_UNSUPPORTED');
    const sha1 = opensslEncrypt('sha1.ber', ['-aes-256-cbc', '-keyopt', 'rsa_padding_mode:oaep']);
    expect(codeOf(() => decryptEnvelopedData(sha1, enclaveKey))).toBe('CMS_UNSUPPORTED');
    const aes128 = opensslEncrypt('aes128.ber', [
      '-aes-128-cbc',
      '-keyopt',
      'rsa_padding_mode:oaep',
      '-keyopt',
      'rsa_oaep_md:sha256',
      '-keyopt',
      'rsa_mgf1_md:sha256',
    ]);
    expect(codeOf(() => decryptEnvelopedData(aes128, enclaveKey))).toBe('CMS_UNSUPPORTED');
  });

  it('checks PKCS#7 padding', () => {
    const parsed = parseEnvelopedData(envelope);
    const contentKey = privateDecrypt(
      { key: enclaveKey, padding: rsa.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      parsed.recipient.encryptedKey,
    );
    const reencrypt = (plain: Buffer) =>
      buildEnvelope({
        ...parsed.recipient,
        ski: parsed.recipient.subjectKeyIdentifier!,
        iv: parsed.iv,
        ciphertext: createCipheriv('aes-256-cbc', contentKey, parsed.iv)
          .setAutoPadding(false)
          .update(plain),
      });
    const good = Buffer.concat([datakey, Buffer.alloc(16, 16)]);
    expect(hex(decryptEnvelopedData(reencrypt(good), enclaveKey))).toBe(hex(datakey));
    for (const lastBlock of [
      Buffer.alloc(16, 0),
      Buffer.alloc(16, 17),
      Buffer.concat([Buffer.alloc(15, 3), Buffer.of(4)]),
    ]) {
      const bad = Buffer.concat([datakey, lastBlock]);
      expect(codeOf(() => decryptEnvelopedData(reencrypt(bad), enclaveKey))).toBe(
        'CMS_BAD_PADDING',
      );
    }
  });
});
