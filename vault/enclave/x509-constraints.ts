import { VaultError } from '../errors.ts';
import {
  type BerNode,
  expectConstructed,
  expectOctetString,
  expectOid,
  isContext,
  isUniversal,
  parseBer,
  TAG_INTEGER,
  TAG_SEQUENCE,
} from './ber.ts';

/**
 * The two X.509 extensions node:crypto does not expose and the Nitro chain depends on:
 * basicConstraints (with pathLenConstraint) and keyUsage (RFC 5280 §4.2.1.9, §4.2.1.3).
 */
export interface CertificateConstraints {
  readonly ca: boolean;
  readonly pathLength: number | null;
  /** keyUsage bits, or null when the extension is absent. */
  readonly keyCertSign: boolean | null;
  readonly digitalSignature: boolean | null;
}

const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const TAG_BOOLEAN = 1;
const TAG_BIT_STRING = 3;

function bad(message: string): VaultError {
  return new VaultError('ATTESTATION_BAD_CHAIN', message);
}

function extensionsOf(der: Uint8Array): readonly BerNode[] {
  const certificate = expectConstructed(parseBer(der), TAG_SEQUENCE, 'Certificate');
  const tbs = expectConstructed(certificate[0], TAG_SEQUENCE, 'TBSCertificate');
  const wrapper = tbs.find((field) => isContext(field, 3));
  if (wrapper === undefined) return [];
  return expectConstructed(wrapper.children[0], TAG_SEQUENCE, 'extensions');
}

function parseBasicConstraints(value: Uint8Array): { ca: boolean; pathLength: number | null } {
  const fields = [...expectConstructed(parseBer(value), TAG_SEQUENCE, 'basicConstraints')];
  let ca = false;
  if (isUniversal(fields[0], TAG_BOOLEAN)) ca = fields.shift()!.content[0] === 0xff;
  let pathLength: number | null = null;
  const limit = fields.shift();
  if (limit !== undefined) {
    if (
      !isUniversal(limit, TAG_INTEGER) ||
      limit.content.length !== 1 ||
      limit.content[0]! > 0x7f
    ) {
      throw bad('basicConstraints pathLenConstraint is not a small INTEGER');
    }
    pathLength = limit.content[0]!;
  }
  if (fields.length > 0) throw bad('basicConstraints has extra fields');
  return { ca, pathLength };
}

function parseKeyUsage(value: Uint8Array): { keyCertSign: boolean; digitalSignature: boolean } {
  const bits = parseBer(value);
  if (!isUniversal(bits, TAG_BIT_STRING) || bits.constructed || bits.content.length < 2) {
    throw bad('keyUsage is not a BIT STRING');
  }
  const first = bits.content[1]!;
  return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
}

export function certificateConstraints(der: Uint8Array, label: string): CertificateConstraints {
  try {
    let basic = { ca: false, pathLength: null as number | null };
    let usage: { keyCertSign: boolean | null; digitalSignature: boolean | null } = {
      keyCertSign: null,
      digitalSignature: null,
    };
    for (const extension of extensionsOf(der)) {
      const parts = expectConstructed(extension, TAG_SEQUENCE, 'Extension');
      const oid = expectOid(parts[0], 'extnID');
      const value = expectOctetString(parts[parts.length - 1], 'extnValue');
      if (oid === BASIC_CONSTRAINTS) basic = parseBasicConstraints(value);
      if (oid === KEY_USAGE) usage = parseKeyUsage(value);
    }
    return { ...basic, ...usage };
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'unreadable';
    throw bad(`${label}: cannot read its extensions (${reason})`);
  }
}

/**
 * `path` runs root first, leaf last. Every CA must allow certificate signing and respect its
 * pathLenConstraint (the number of CA certificates below it, leaf excluded); the leaf must be
 * allowed to make digital signatures.
 */
export function checkPathConstraints(
  path: readonly CertificateConstraints[],
  labels: readonly string[],
): void {
  const leafIndex = path.length - 1;
  path.forEach((cert, i) => {
    const label = labels[i] ?? `certificate ${i}`;
    if (i === leafIndex) {
      if (cert.digitalSignature === false) throw bad(`${label} keyUsage lacks digitalSignature`);
      return;
    }
    if (!cert.ca) throw bad(`${label} is not a CA (basicConstraints)`);
    if (cert.keyCertSign === false) throw bad(`${label} keyUsage lacks keyCertSign`);
    const casBelow = leafIndex - i - 1;
    if (cert.pathLength !== null && casBelow > cert.pathLength) {
      throw bad(`${label} allows ${cert.pathLength} CA(s) below it, the chain has ${casBelow}`);
    }
  });
}
