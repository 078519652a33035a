import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { oid, tlv } from './der-writer.ts';

/**
 * Test support only: writes CMS EnvelopedData shaped exactly like KMS's CiphertextForRecipient
 * (BER, indefinite lengths, 32-byte subjectKeyIdentifier, RSAES-OAEP-SHA-256 + MGF1-SHA-256,
 * AES-256-CBC). Used by the loopback KMS fake and the padding tests; never by production code.
 */
function indefinite(tag: number, ...children: Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.of(tag, 0x80), ...children, Buffer.of(0, 0)]);
}

const NULL = Buffer.of(0x05, 0x00);
const seq = (...c: Uint8Array[]) => tlv(0x30, Buffer.concat(c));
const octets = (b: Uint8Array) => tlv(0x04, b);

export interface EnvelopeParts {
  readonly ski: Uint8Array;
  readonly encryptedKey: Uint8Array;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** KMS sends encryptedContent either as constructed [0] of OCTET STRINGs or primitive [0]. */
  readonly constructedContent?: boolean;
}

export function buildEnvelope(parts: EnvelopeParts): Buffer {
  const sha256 = seq(oid('2.16.840.1.101.3.4.2.1'), NULL);
  const oaep = seq(
    oid('1.2.840.113549.1.1.7'),
    seq(tlv(0xa0, sha256), tlv(0xa1, seq(oid('1.2.840.113549.1.1.8'), sha256))),
  );
  const recipient = seq(
    Buffer.of(0x02, 0x01, 0x02),
    tlv(0x80, parts.ski),
    oaep,
    octets(parts.encryptedKey),
  );
  const content = parts.constructedContent
    ? indefinite(0xa0, octets(parts.ciphertext))
    : tlv(0x80, parts.ciphertext);
  const encryptedContentInfo = indefinite(
    0x30,
    oid('1.2.840.113549.1.7.1'),
    seq(oid('2.16.840.1.101.3.4.1.42'), octets(parts.iv)),
    content,
  );
  const envelopedData = indefinite(
    0x30,
    Buffer.of(0x02, 0x01, 0x02),
    indefinite(0x31, recipient),
    encryptedContentInfo,
  );
  return indefinite(0x30, oid('1.2.840.113549.1.7.3'), indefinite(0xa0, envelopedData));
}

/** Encrypts `plaintext` to an RSA SPKI (DER) the way KMS does for a Recipient. */
export function envelopeTo(
  spkiDer: Uint8Array,
  plaintext: Uint8Array,
  constructedContent = true,
): Buffer {
  const contentKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  const encryptedKey = publicEncrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    contentKey,
  );
  const ski = createHash('sha256').update(spkiDer).digest();
  return buildEnvelope({ ski, encryptedKey, iv, ciphertext, constructedContent });
}
