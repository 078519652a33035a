import { constants, createDecipheriv, type KeyObject, privateDecrypt } from 'node:crypto';
import { VaultError } from '../errors.ts';
import {
  type BerNode,
  expectConstructed,
  expectOctetString,
  expectOid,
  expectSmallInteger,
  isContext,
  isUniversal,
  parseBer,
  stringContent,
  TAG_NULL,
  TAG_SEQUENCE,
  TAG_SET,
} from './ber.ts';

/**
 * CMS EnvelopedData (RFC 5652 §6) as AWS KMS returns it in CiphertextForRecipient: one
 * KeyTransRecipientInfo with RSAES-OAEP (SHA-256, MGF1-SHA-256) and AES-256-CBC content. This is
 * the only profile accepted; anything else is refused rather than guessed at.
 */
export const OID = {
  envelopedData: '1.2.840.113549.1.7.3',
  data: '1.2.840.113549.1.7.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  sha256: '2.16.840.1.101.3.4.2.1',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

export interface KeyTransRecipient {
  readonly version: number;
  /** rid [0] subjectKeyIdentifier (KMS: 32 bytes; OpenSSL -keyid: 20 bytes); null for issuerAndSerialNumber. */
  readonly subjectKeyIdentifier: Uint8Array | null;
  readonly encryptedKey: Uint8Array;
}

export interface EnvelopedData {
  readonly version: number;
  readonly recipient: KeyTransRecipient;
  readonly contentType: string;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
}

const AES_BLOCK = 16;
const AES256_KEY_BYTES = 32;

function malformed(message: string): VaultError {
  return new VaultError('CMS_MALFORMED', message);
}

function unsupported(message: string): VaultError {
  return new VaultError('CMS_UNSUPPORTED', message);
}

/** AlgorithmIdentifier → [oid, parameters?]. */
function algorithm(node: BerNode | undefined, what: string): [string, BerNode | undefined] {
  const parts = expectConstructed(node, TAG_SEQUENCE, what);
  if (parts.length < 1 || parts.length > 2)
    throw malformed(`${what}: AlgorithmIdentifier must have 1 or 2 fields`);
  return [expectOid(parts[0], `${what} algorithm`), parts[1]];
}

/** SHA-256 AlgorithmIdentifier with absent or NULL parameters. */
function requireSha256(node: BerNode | undefined, what: string): void {
  const [oid, params] = algorithm(node, what);
  if (oid !== OID.sha256) throw unsupported(`${what} must be SHA-256, found ${oid}`);
  if (params !== undefined && !(isUniversal(params, TAG_NULL) && params.content.length === 0)) {
    throw malformed(`${what}: SHA-256 parameters must be absent or NULL`);
  }
}

/** RSAES-OAEP-params (RFC 8017 A.2.1): require SHA-256, MGF1(SHA-256), empty label. */
function requireOaepSha256(params: BerNode | undefined): void {
  // Absent parameters mean the SHA-1 defaults, which KMS never uses.
  const fields = expectConstructed(params, TAG_SEQUENCE, 'RSAES-OAEP parameters');
  const byTag = new Map<number, BerNode>();
  let last = -1;
  for (const field of fields) {
    if (!isContext(field, field.tag) || !field.constructed || field.tag > 2 || field.tag <= last) {
      throw malformed('RSAES-OAEP parameters: unexpected or misordered field');
    }
    if (field.children.length !== 1)
      throw malformed('RSAES-OAEP parameters: explicit tag must wrap one element');
    last = field.tag;
    byTag.set(field.tag, field.children[0]!);
  }
  const hash = byTag.get(0);
  const mgf = byTag.get(1);
  const label = byTag.get(2);
  if (hash === undefined)
    throw unsupported('RSAES-OAEP hash is the SHA-1 default; SHA-256 is required');
  requireSha256(hash, 'RSAES-OAEP hashFunc');
  if (mgf === undefined)
    throw unsupported(
      'RSAES-OAEP mask generation is the MGF1-SHA-1 default; MGF1-SHA-256 is required',
    );
  const [mgfOid, mgfHash] = algorithm(mgf, 'RSAES-OAEP maskGenFunc');
  if (mgfOid !== OID.mgf1)
    throw unsupported(`RSAES-OAEP maskGenFunc must be MGF1, found ${mgfOid}`);
  requireSha256(mgfHash, 'MGF1 hash');
  if (label !== undefined) {
    const [labelOid, labelValue] = algorithm(label, 'RSAES-OAEP pSourceFunc');
    if (labelOid !== OID.pSpecified || expectOctetString(labelValue, 'OAEP label').length !== 0) {
      throw unsupported('RSAES-OAEP label must be empty');
    }
  }
}

function parseRecipient(node: BerNode | undefined): KeyTransRecipient {
  if (node === undefined || node.tagClass !== 0) {
    throw unsupported('only KeyTransRecipientInfo recipients are supported');
  }
  const fields = expectConstructed(node, TAG_SEQUENCE, 'KeyTransRecipientInfo');
  if (fields.length !== 4) throw malformed('KeyTransRecipientInfo must have 4 fields');
  const version = expectSmallInteger(fields[0], 'KeyTransRecipientInfo version');
  const rid = fields[1]!;
  let subjectKeyIdentifier: Uint8Array | null;
  if (version === 2 && isContext(rid, 0)) {
    subjectKeyIdentifier = stringContent(rid);
  } else if (version === 0 && isUniversal(rid, TAG_SEQUENCE)) {
    subjectKeyIdentifier = null;
  } else {
    throw malformed('KeyTransRecipientInfo version and recipient identifier disagree');
  }
  const [keyAlg, keyParams] = algorithm(fields[2], 'keyEncryptionAlgorithm');
  if (keyAlg !== OID.rsaesOaep)
    throw unsupported(`key encryption must be RSAES-OAEP, found ${keyAlg}`);
  requireOaepSha256(keyParams);
  const encryptedKey = expectOctetString(fields[3], 'encryptedKey');
  if (encryptedKey.length === 0) throw malformed('encryptedKey is empty');
  return { version, subjectKeyIdentifier, encryptedKey };
}

/** Parses ContentInfo(envelopedData) in BER; checks structure and algorithms, not secrets. */
export function parseEnvelopedData(bytes: Uint8Array): EnvelopedData {
  const contentInfo = expectConstructed(parseBer(bytes), TAG_SEQUENCE, 'ContentInfo');
  if (contentInfo.length !== 2) throw malformed('ContentInfo must have 2 fields');
  const contentType = expectOid(contentInfo[0], 'ContentInfo contentType');
  if (contentType !== OID.envelopedData)
    throw unsupported(`ContentInfo is ${contentType}, not envelopedData`);
  const wrapper = contentInfo[1];
  if (!isContext(wrapper, 0) || !wrapper.constructed || wrapper.children.length !== 1) {
    throw malformed('ContentInfo content must be [0] EXPLICIT');
  }
  const fields = [...expectConstructed(wrapper.children[0], TAG_SEQUENCE, 'EnvelopedData')];
  const version = expectSmallInteger(fields.shift(), 'EnvelopedData version');
  if (version !== 0 && version !== 2)
    throw unsupported(`EnvelopedData version ${version} is not supported`);
  if (isContext(fields[0], 0)) fields.shift(); // originatorInfo: certificates we do not need
  const recipients = expectConstructed(fields.shift(), TAG_SET, 'recipientInfos');
  if (recipients.length !== 1)
    throw unsupported(`expected exactly one recipient, found ${recipients.length}`);
  const recipient = parseRecipient(recipients[0]);

  const eci = expectConstructed(fields.shift(), TAG_SEQUENCE, 'EncryptedContentInfo');
  if (fields.length > 1 || (fields.length === 1 && !isContext(fields[0], 1))) {
    throw malformed('unexpected fields after EncryptedContentInfo');
  }
  if (eci.length !== 3) throw malformed('EncryptedContentInfo must carry encryptedContent');
  const innerType = expectOid(eci[0], 'EncryptedContentInfo contentType');
  if (innerType !== OID.data)
    throw unsupported(`encrypted content type ${innerType} is not id-data`);
  const [cipherOid, ivNode] = algorithm(eci[1], 'contentEncryptionAlgorithm');
  if (cipherOid !== OID.aes256Cbc)
    throw unsupported(`content encryption must be AES-256-CBC, found ${cipherOid}`);
  const iv = expectOctetString(ivNode, 'AES-CBC IV');
  if (iv.length !== AES_BLOCK) throw malformed(`AES-CBC IV must be ${AES_BLOCK} bytes`);
  const content = eci[2];
  if (!isContext(content, 0)) throw malformed('encryptedContent must be [0] IMPLICIT OCTET STRING');
  const ciphertext = stringContent(content);
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) {
    throw malformed('encryptedContent length must be a positive multiple of 16');
  }
  return { version, recipient, contentType: innerType, iv, ciphertext };
}

function unpadPkcs7(padded: Uint8Array): Uint8Array {
  const pad = padded[padded.length - 1]!;
  let bad = pad === 0 || pad > AES_BLOCK ? 1 : 0;
  for (let i = 1; i <= AES_BLOCK; i++) {
    if (i <= pad) bad |= padded[padded.length - i]! ^ pad;
  }
  if (bad !== 0)
    throw new VaultError('CMS_BAD_PADDING', 'decrypted CMS content has invalid PKCS#7 padding');
  return padded.subarray(0, padded.length - pad);
}

/**
 * Decrypts an EnvelopedData with the recipient's RSA private key: RSA-OAEP-SHA-256 unwraps the
 * AES-256 content key, AES-256-CBC decrypts, PKCS#7 padding is checked. Never returns partial data.
 */
export function decryptEnvelopedData(bytes: Uint8Array, privateKey: KeyObject): Uint8Array {
  const envelope = parseEnvelopedData(bytes);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') {
    throw new VaultError('CMS_DECRYPT_FAILED', 'CMS recipient key must be an RSA private key', 500);
  }
  let contentKey: Uint8Array;
  try {
    contentKey = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      envelope.recipient.encryptedKey,
    );
  } catch {
    throw new VaultError(
      'CMS_DECRYPT_FAILED',
      'CMS content key does not decrypt with this RSA key',
    );
  }
  if (contentKey.length !== AES256_KEY_BYTES) {
    contentKey.fill(0);
    throw new VaultError('CMS_DECRYPT_FAILED', 'CMS content key is not an AES-256 key');
  }
  const decipher = createDecipheriv('aes-256-cbc', contentKey, envelope.iv).setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]);
  contentKey.fill(0);
  try {
    return Uint8Array.from(unpadPkcs7(padded));
  } finally {
    padded.fill(0);
  }
}
