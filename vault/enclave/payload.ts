import { VaultError } from '../errors.ts';
import { decodeCbor, parseCoseSign1 } from './cose.ts';
import {
  MAX_DOCUMENT_BYTES,
  MAX_MODULE_ID_LENGTH,
  MAX_NONCE_BYTES,
  MAX_PCR_INDEX,
  MAX_PUBLIC_KEY_BYTES,
  MAX_USER_DATA_BYTES,
  PCR_BYTES,
} from './limits.ts';

/**
 * The logical content shared by Nitro and dev attestation documents (AWS NSM API
 * `AttestationDoc`): who, when, which measurements, and the three caller-chosen bindings.
 */
export interface AttestationFields {
  readonly moduleId: string;
  readonly timestampMs: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

const CODE = 'ATTESTATION_MALFORMED';

export function fieldOf(payload: Map<unknown, unknown>, key: string): unknown {
  if (!payload.has(key)) throw new VaultError(CODE, `attestation payload lacks "${key}"`);
  return payload.get(key);
}

export function bytesField(payload: Map<unknown, unknown>, key: string, max: number): Uint8Array {
  const value = fieldOf(payload, key);
  if (!(value instanceof Uint8Array)) {
    throw new VaultError(CODE, `attestation "${key}" must be a byte string`);
  }
  if (value.length === 0 || value.length > max) {
    throw new VaultError(CODE, `attestation "${key}" must be 1..${max} bytes`);
  }
  return value;
}

/** Optional fields are always present in real documents, as CBOR null when unused. */
function optionalBytes(
  payload: Map<unknown, unknown>,
  key: string,
  max: number,
): Uint8Array | null {
  const value = payload.has(key) ? payload.get(key) : null;
  if (value === null) return null;
  if (!(value instanceof Uint8Array)) {
    throw new VaultError(CODE, `attestation "${key}" must be a byte string or null`);
  }
  if (value.length > max) {
    throw new VaultError(CODE, `attestation "${key}" is longer than ${max} bytes`);
  }
  return value;
}

function parsePcrs(value: unknown): Map<number, Uint8Array> {
  if (!(value instanceof Map) || value.size === 0 || value.size > MAX_PCR_INDEX + 1) {
    throw new VaultError(
      CODE,
      `attestation "pcrs" must be a map of 1..${MAX_PCR_INDEX + 1} entries`,
    );
  }
  const pcrs = new Map<number, Uint8Array>();
  for (const [index, digest] of value) {
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index > MAX_PCR_INDEX
    ) {
      throw new VaultError(CODE, `attestation PCR index must be an integer 0..${MAX_PCR_INDEX}`);
    }
    if (!(digest instanceof Uint8Array) || digest.length !== PCR_BYTES) {
      throw new VaultError(CODE, `attestation PCR${index} must be ${PCR_BYTES} bytes (SHA-384)`);
    }
    pcrs.set(index, digest);
  }
  for (const required of [0, 1, 2]) {
    if (!pcrs.has(required)) throw new VaultError(CODE, `attestation lacks PCR${required}`);
  }
  return pcrs;
}

export function parseAttestationFields(payload: unknown): AttestationFields {
  if (!(payload instanceof Map)) {
    throw new VaultError(CODE, 'attestation payload must be a CBOR map');
  }
  const moduleId = fieldOf(payload, 'module_id');
  if (
    typeof moduleId !== 'string' ||
    moduleId.length === 0 ||
    moduleId.length > MAX_MODULE_ID_LENGTH
  ) {
    throw new VaultError(CODE, 'attestation "module_id" must be a non-empty text string');
  }
  if (fieldOf(payload, 'digest') !== 'SHA384') {
    throw new VaultError(CODE, 'attestation "digest" must be "SHA384"');
  }
  const timestampMs = fieldOf(payload, 'timestamp');
  if (typeof timestampMs !== 'number' || !Number.isSafeInteger(timestampMs) || timestampMs <= 0) {
    throw new VaultError(CODE, 'attestation "timestamp" must be a positive integer (ms)');
  }
  return {
    moduleId,
    timestampMs,
    pcrs: parsePcrs(fieldOf(payload, 'pcrs')),
    publicKey: optionalBytes(payload, 'public_key', MAX_PUBLIC_KEY_BYTES),
    userData: optionalBytes(payload, 'user_data', MAX_USER_DATA_BYTES),
    nonce: optionalBytes(payload, 'nonce', MAX_NONCE_BYTES),
  };
}

/** A debug-mode Nitro enclave reports PCR0, PCR1 and PCR2 as all-zero. */
export function isDebugMeasurement(pcrs: ReadonlyMap<number, Uint8Array>): boolean {
  return [0, 1, 2].every((index) => pcrs.get(index)?.every((byte) => byte === 0) ?? false);
}

/** A document's fields, read WITHOUT verifying its signature or chain: never to be trusted. */
export function unverifiedAttestationFields(document: Uint8Array): AttestationFields {
  if (document.length > MAX_DOCUMENT_BYTES) {
    throw new VaultError(CODE, `attestation document exceeds ${MAX_DOCUMENT_BYTES} bytes`);
  }
  const cose = parseCoseSign1(document, CODE);
  return parseAttestationFields(decodeCbor(cose.payload, CODE, 'attestation payload'));
}

/**
 * A document's signed timestamp, read WITHOUT verifying anything. Only for choosing the time at
 * which to verify a stored document: Nitro leaf certificates live for hours, while a cluster
 * member's document must keep verifying for the member's whole life.
 */
export function documentTimestamp(document: Uint8Array): Date {
  return new Date(unverifiedAttestationFields(document).timestampMs);
}
