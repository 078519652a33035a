import { VaultError } from '../errors.ts';
import {
  type BerNode,
  expectConstructed,
  expectOid,
  isContext,
  isUniversal,
  parseDer,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_SEQUENCE,
} from './ber.ts';

/**
 * An X.509 certificate (RFC 5280 §4.1) as far as the Nitro chain needs it, read with our own DER
 * reader so it runs where node:crypto does not. The structure is checked when the certificate is
 * read; the signature and the validity dates are kept as carried and judged by the chain check, in
 * the order OpenSSL judges them, so both verifiers give the same verdict on the same bytes.
 */
export interface Certificate {
  /** 1, 2 or 3 (the field as carried, plus one): the chain accepts only v3. */
  readonly version: number;
  /** The DER of tbsCertificate: the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  /** tbsCertificate.signature and Certificate.signatureAlgorithm, as encoded. */
  readonly innerAlgorithm: BerNode;
  readonly outerAlgorithm: BerNode;
  /** The signatureValue BIT STRING's content (unused-bits byte first). */
  readonly signatureValue: Uint8Array;
  /** Issuer and subject Names as encoded: chaining compares them byte for byte. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: BerNode;
  readonly notAfter: BerNode;
  /** SubjectPublicKeyInfo's algorithm and curve OIDs and the key's BIT STRING content. */
  readonly keyAlgorithm: string;
  readonly keyCurve: string | null;
  readonly keyBits: Uint8Array;
}

const TAG_BIT_STRING = 3;
const TAG_UTC_TIME = 23;
const TAG_GENERALIZED_TIME = 24;

function malformed(label: string, why: string): VaultError {
  return new VaultError(
    'ATTESTATION_MALFORMED',
    `${label} is not a readable DER X.509 certificate (${why})`,
  );
}

/** A BIT STRING's content, unused-bits byte first (at most 7, and 0 when it is empty). */
function bitString(node: BerNode | undefined, what: string): Uint8Array {
  if (!isUniversal(node, TAG_BIT_STRING) || node.constructed || node.content.length === 0) {
    throw new Error(`${what}: expected a BIT STRING`);
  }
  const unused = node.content[0]!;
  if (unused > 7 || (unused > 0 && node.content.length === 1)) {
    throw new Error(`${what}: impossible count of unused bits`);
  }
  return node.content;
}

/** A DER INTEGER (minimal two's complement) small enough to be a version, or its raw bytes. */
function integer(node: BerNode | undefined, what: string): Uint8Array {
  if (!isUniversal(node, TAG_INTEGER) || node.constructed || node.content.length === 0) {
    throw new Error(`${what}: expected an INTEGER`);
  }
  const [a, b] = node.content;
  if (b !== undefined && ((a === 0 && b < 0x80) || (a === 0xff && b >= 0x80))) {
    throw new Error(`${what}: non-minimal INTEGER`);
  }
  return node.content;
}

const TAG_BOOLEAN = 1;
const TAG_OID = 6;
const TAG_UTF8_STRING = 12;
const TAG_SET = 17;
const TAG_UNIVERSAL_STRING = 28;
const TAG_BMP_STRING = 30;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UCS-4 (UniversalString): whole code points, none beyond Unicode. */
function isUcs4(bytes: Uint8Array): boolean {
  if (bytes.length % 4 !== 0) return false;
  for (let i = 0; i < bytes.length; i += 4) {
    if (bytes[i] !== 0 || bytes[i + 1]! > 0x10) return false;
  }
  return true;
}

/**
 * The universal types an attribute value may have: the DirectoryString types and the others
 * OpenSSL reads in a name (tags 7-9, 11, 13-15, 29: kept as bytes), and BIT STRING. Not BOOLEAN,
 * INTEGER, NULL, OID, OCTET STRING, the time types, VideotexString, GraphicString, VisibleString
 * or GeneralString: OpenSSL refuses those in a name, and so do we, to give the same answers.
 */
const ATTRIBUTE_VALUE_TAGS = new Set([3, 7, 8, 9, 11, 12, 13, 14, 15, 18, 19, 20, 22, 28, 29, 30]);

/**
 * An attribute value must be a readable primitive of an allowed type: UTF8String that decodes,
 * UniversalString and BMPString of whole characters, a well-formed BIT STRING. The character sets
 * of the 8-bit string types are not judged (OpenSSL does not; the signature covers the bytes).
 */
function attributeValue(value: BerNode, what: string): void {
  const { tag, content } = value;
  if (!ATTRIBUTE_VALUE_TAGS.has(tag)) throw new Error(`${what}: a type no name carries`);
  if (tag === TAG_UTF8_STRING) {
    try {
      utf8.decode(content);
    } catch {
      throw new Error(`${what}: UTF8String is not UTF-8`);
    }
  }
  if (tag === TAG_UNIVERSAL_STRING && !isUcs4(content)) {
    throw new Error(`${what}: UniversalString is not UCS-4`);
  }
  if (tag === TAG_BMP_STRING && content.length % 2 !== 0) {
    throw new Error(`${what}: BMPString of an odd length`);
  }
  if (tag === TAG_BIT_STRING) bitString(value, what);
}

/** Name (RFC 5280 §4.1.2.4): SEQUENCE OF non-empty SET OF {type OID, primitive value}. */
function name(node: BerNode | undefined, what: string): Uint8Array {
  for (const rdn of expectConstructed(node, TAG_SEQUENCE, what)) {
    if (!isUniversal(rdn, TAG_SET) || !rdn.constructed || rdn.children.length === 0) {
      throw new Error(`${what}: expected a non-empty SET`);
    }
    for (const attribute of rdn.children) {
      const [type, value, ...extra] = expectConstructed(
        attribute,
        TAG_SEQUENCE,
        `${what} attribute`,
      );
      expectOid(type, `${what} attribute type`);
      if (value === undefined || extra.length > 0 || value.tagClass !== 0 || value.constructed) {
        throw new Error(`${what}: expected one primitive value per attribute`);
      }
      attributeValue(value, `${what} attribute value`);
    }
  }
  return node!.raw;
}

/** Extensions (RFC 5280 §4.1.2.9): SEQUENCE OF {extnID, critical BOOLEAN DEFAULT FALSE, extnValue}. */
function extensions(wrapper: BerNode): void {
  if (!wrapper.constructed || wrapper.children.length !== 1) {
    throw new Error('extensions: expected one explicit SEQUENCE');
  }
  for (const extension of expectConstructed(wrapper.children[0], TAG_SEQUENCE, 'extensions')) {
    const parts = [...expectConstructed(extension, TAG_SEQUENCE, 'Extension')];
    expectOid(parts.shift(), 'extnID');
    if (isUniversal(parts[0], TAG_BOOLEAN)) {
      const critical = parts.shift()!;
      if (critical.constructed || critical.content.length !== 1 || critical.content[0] !== 0xff) {
        throw new Error('Extension: critical must be a DER TRUE (FALSE is the default, left out)');
      }
    }
    const value = parts.shift();
    if (!isUniversal(value, TAG_OCTET_STRING) || value.constructed || parts.length > 0) {
      throw new Error('Extension: expected extnValue as one OCTET STRING');
    }
  }
}

function algorithm(node: BerNode | undefined, what: string): BerNode {
  const parts = expectConstructed(node, TAG_SEQUENCE, what);
  expectOid(parts[0], `${what} algorithm`);
  if (parts.length > 2) throw new Error(`${what}: extra fields`);
  return node!;
}

function time(node: BerNode | undefined, what: string): BerNode {
  const ok =
    (isUniversal(node, TAG_UTC_TIME) || isUniversal(node, TAG_GENERALIZED_TIME)) &&
    !node.constructed;
  if (!ok) throw new Error(`${what}: expected a UTCTime or GeneralizedTime`);
  return node;
}

function readCertificate(der: Uint8Array): Certificate {
  const [tbsNode, outerAlgorithm, signature, ...extra] = expectConstructed(
    parseDer(der),
    TAG_SEQUENCE,
    'Certificate',
  );
  if (extra.length > 0) throw new Error('Certificate has extra fields');
  const fields = [...expectConstructed(tbsNode, TAG_SEQUENCE, 'TBSCertificate')];
  let version = 0;
  if (isContext(fields[0], 0)) {
    const wrapper = fields.shift()!;
    const bytes = integer(wrapper.children[0], 'version');
    if (!wrapper.constructed || wrapper.children.length !== 1 || bytes.length > 1) {
      throw new Error('version: expected one small explicit INTEGER');
    }
    version = bytes[0]!;
  }
  const [serial, innerAlgorithm, issuer, validity, subject, spki, ...rest] = fields;
  integer(serial, 'serialNumber');
  const [notBefore, notAfter, ...extraTimes] = expectConstructed(
    validity,
    TAG_SEQUENCE,
    'validity',
  );
  if (extraTimes.length > 0) throw new Error('validity has extra fields');
  const [keyAlgorithmNode, keyBitsNode, ...extraKey] = expectConstructed(
    spki,
    TAG_SEQUENCE,
    'subjectPublicKeyInfo',
  );
  if (extraKey.length > 0) throw new Error('subjectPublicKeyInfo has extra fields');
  const keyParts = expectConstructed(keyAlgorithmNode, TAG_SEQUENCE, 'key algorithm');
  const keyCurve =
    keyParts.length === 2 && isUniversal(keyParts[1], TAG_OID) ? keyParts[1] : undefined;
  const optional = rest.map((node) => (node.tagClass === 2 ? node.tag : -1));
  if (optional.some((tag, i) => tag < 1 || tag > 3 || (i > 0 && tag <= optional[i - 1]!))) {
    throw new Error('TBSCertificate has unexpected fields after the key');
  }
  for (const field of rest) {
    if (field.tag === 3) extensions(field);
    else if (field.constructed)
      throw new Error('a unique identifier must be a primitive BIT STRING');
  }
  return {
    version: version + 1,
    tbs: tbsNode!.raw,
    innerAlgorithm: algorithm(innerAlgorithm, 'signature'),
    outerAlgorithm: algorithm(outerAlgorithm, 'signatureAlgorithm'),
    signatureValue: bitString(signature, 'signatureValue'),
    issuer: name(issuer, 'issuer'),
    subject: name(subject, 'subject'),
    notBefore: time(notBefore, 'notBefore'),
    notAfter: time(notAfter, 'notAfter'),
    keyAlgorithm: expectOid(keyParts[0], 'key algorithm'),
    keyCurve: keyCurve === undefined ? null : expectOid(keyCurve, 'key curve'),
    keyBits: bitString(keyBitsNode, 'subjectPublicKey'),
  };
}

/** Reads a DER certificate; ATTESTATION_MALFORMED naming `label` when it is not one. */
export function parseCertificate(der: Uint8Array, label: string): Certificate {
  try {
    return readCertificate(der);
  } catch (err) {
    throw malformed(label, err instanceof Error ? err.message : 'unreadable');
  }
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A validity time in milliseconds since the epoch (RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ with
 * years 1950..2049, GeneralizedTime YYYYMMDDHHMMSSZ), or NaN when it is not a real instant.
 */
export function certificateTime(node: BerNode): number {
  const text = String.fromCharCode(...node.content);
  const utc = node.tag === TAG_UTC_TIME;
  const match = (utc ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (match === null) return Number.NaN;
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const year = utc ? (y < 50 ? 2000 + y : 1900 + y) : y;
  const ms = Date.UTC(year, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  const real =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    h < 24 &&
    mi < 60 &&
    s < 60;
  return real ? ms : Number.NaN;
}
