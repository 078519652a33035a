import { type DecodeOptions, decode, encode } from 'cborg';
import { VaultError } from '../errors.ts';

/**
 * COSE_Sign1 (RFC 9052 §4.2) as AWS Nitro emits it: an untagged CBOR array
 * [protected bstr, unprotected map, payload bstr, signature bstr]. Tag 18 is tolerated at the top
 * level only, since AWS's documentation mentions it while real documents omit it.
 */
export interface CoseSign1 {
  /** The protected header exactly as carried (it is signed as these bytes). */
  readonly protectedBytes: Uint8Array;
  readonly protectedHeader: Map<unknown, unknown>;
  readonly unprotectedHeader: Map<unknown, unknown>;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

const COSE_SIGN1_TAG_BYTE = 0xd2;

/** Strict decoding: definite lengths, no duplicate keys, no undefined/NaN, no tags. */
export const STRICT_CBOR: DecodeOptions = {
  useMaps: true,
  rejectDuplicateMapKeys: true,
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
};

/** Decodes CBOR, turning any decoder complaint into a VaultError with `code`. */
export function decodeCbor(bytes: Uint8Array, code: string, what: string): unknown {
  try {
    return decode(bytes, STRICT_CBOR);
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'undecodable';
    throw new VaultError(code, `${what} is not valid CBOR: ${reason}`);
  }
}

export function parseCoseSign1(bytes: Uint8Array, code: string): CoseSign1 {
  const body = bytes[0] === COSE_SIGN1_TAG_BYTE ? bytes.subarray(1) : bytes;
  const top = decodeCbor(body, code, 'COSE_Sign1');
  if (!Array.isArray(top) || top.length !== 4) {
    throw new VaultError(code, 'COSE_Sign1 must be a CBOR array of 4 elements');
  }
  const [protectedBytes, unprotectedHeader, payload, signature] = top as unknown[];
  if (!(protectedBytes instanceof Uint8Array)) {
    throw new VaultError(code, 'COSE_Sign1 protected header must be a byte string');
  }
  if (!(unprotectedHeader instanceof Map)) {
    throw new VaultError(code, 'COSE_Sign1 unprotected header must be a map');
  }
  if (!(payload instanceof Uint8Array)) {
    throw new VaultError(code, 'COSE_Sign1 payload must be a byte string');
  }
  if (!(signature instanceof Uint8Array)) {
    throw new VaultError(code, 'COSE_Sign1 signature must be a byte string');
  }
  const protectedHeader = decodeCbor(protectedBytes, code, 'COSE protected header');
  if (!(protectedHeader instanceof Map)) {
    throw new VaultError(code, 'COSE protected header must encode a map');
  }
  return { protectedBytes, protectedHeader, unprotectedHeader, payload, signature };
}

/** Sig_structure for COSE_Sign1 with empty external_aad: the bytes that are actually signed. */
export function sign1SigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/** Encodes an untagged COSE_Sign1 with an empty unprotected header. */
export function encodeCoseSign1(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  return encode([protectedBytes, new Map(), payload, signature]);
}

/** True when `header` holds exactly the given integer-keyed entries and nothing else. */
export function headerIsExactly(
  header: Map<unknown, unknown>,
  expected: ReadonlyArray<readonly [number, unknown]>,
): boolean {
  if (header.size !== expected.length) return false;
  return expected.every(([key, value]) => header.get(key) === value);
}
