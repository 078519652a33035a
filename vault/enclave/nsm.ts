/**
 * The Nitro Secure Module protocol: one CBOR request in, one CBOR response out, through the raw
 * ioctl on /dev/nsm that the native addon (native/nsm.cc) issues. Shapes and limits follow
 * aws-nitro-enclaves-nsm-api (`api::Request`, `api::Response`, serde's externally tagged enums)
 * and Linux's include/uapi/linux/nsm.h. The ioctl itself is a seam (`NsmTransport`), so tests
 * put a protocol-level fake where the device would be.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { decode, encode } from 'cborg';
import { VaultError } from '../errors.ts';
import type { AttestationRequest } from './attestation.ts';
import { STRICT_CBOR } from './cose.ts';
import {
  MAX_DOCUMENT_BYTES,
  MAX_NONCE_BYTES,
  MAX_PUBLIC_KEY_BYTES,
  MAX_USER_DATA_BYTES,
} from './limits.ts';
import { type AttestationFields, unverifiedAttestationFields } from './payload.ts';

/** NSM_REQUEST_MAX_SIZE: the driver refuses longer requests with EMSGSIZE. */
export const NSM_REQUEST_MAX_BYTES = 0x1000;
/** NSM_RESPONSE_MAX_SIZE: the driver never writes more (it truncates instead). */
export const NSM_RESPONSE_MAX_BYTES = 0x3000;

/** One raw exchange with the device at `devicePath`: the addon's nsmCall, or a fake in tests. */
export type NsmTransport = (devicePath: string, request: Uint8Array) => Uint8Array;

const UNAVAILABLE = 'ATTESTATION_UNAVAILABLE';

function field(value: Uint8Array | undefined, name: string, max: number): Uint8Array | null {
  if (value === undefined) return null;
  if (!(value instanceof Uint8Array)) {
    throw new VaultError('ATTESTATION_REQUEST_INVALID', `${name} must be a Uint8Array`, 500);
  }
  if (value.length > max) {
    throw new VaultError('ATTESTATION_REQUEST_INVALID', `${name} is longer than ${max} bytes`);
  }
  return new Uint8Array(value);
}

/**
 * `{"Attestation": {"user_data", "nonce", "public_key"}}`, absent fields as CBOR null. Keys stay
 * in the order AWS's serde structs declare them (not length-first), so the NSM receives exactly
 * the bytes AWS's own libnsm sends for the same request.
 */
export function encodeAttestationRequest(request: AttestationRequest): Uint8Array {
  const body = new Map<string, Uint8Array | null>([
    ['user_data', field(request.userData, 'user_data', MAX_USER_DATA_BYTES)],
    ['nonce', field(request.nonce, 'nonce', MAX_NONCE_BYTES)],
    ['public_key', field(request.publicKey, 'public_key', MAX_PUBLIC_KEY_BYTES)],
  ]);
  const bytes = encode(new Map([['Attestation', body]]), { mapSorter: () => 0 });
  // Unreachable with the field limits above (about 2 KiB at most); kept so a future limit change
  // cannot send the driver a request it will refuse.
  if (bytes.length > NSM_REQUEST_MAX_BYTES) {
    throw new VaultError(
      'ATTESTATION_REQUEST_INVALID',
      `NSM request is ${bytes.length} bytes, more than ${NSM_REQUEST_MAX_BYTES}`,
    );
  }
  return bytes;
}

function malformed(what: string): VaultError {
  return new VaultError(UNAVAILABLE, `the NSM answered with a malformed response: ${what}`, 502);
}

/** An identifier-like value may be quoted in an error; anything else is only described. */
function quoted(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(value)
    ? `"${value}"`
    : 'a value';
}

/**
 * The document of `{"Attestation": {"document": bstr}}`, strictly: nothing else in either map,
 * no trailing bytes, size bounds. `{"Error": "<ErrorCode>"}` becomes ATTESTATION_UNAVAILABLE
 * naming the NSM's code (InvalidArgument, InputTooLarge, InternalError, ...).
 */
export function decodeAttestationResponse(response: Uint8Array): Uint8Array {
  if (response.length === 0 || response.length > NSM_RESPONSE_MAX_BYTES) {
    throw malformed(`${response.length} bytes (must be 1..${NSM_RESPONSE_MAX_BYTES})`);
  }
  let top: unknown;
  try {
    top = decode(response, STRICT_CBOR);
  } catch (err) {
    throw malformed(`not valid CBOR (${err instanceof Error ? err.message : 'undecodable'})`);
  }
  if (!(top instanceof Map) || top.size !== 1) {
    throw malformed('expected a map with exactly one variant');
  }
  const [variant, body] = [...(top as Map<unknown, unknown>)][0] ?? [];
  if (variant === 'Error') {
    if (typeof body !== 'string' || !/^[A-Za-z]{1,64}$/.test(body)) {
      throw malformed('"Error" must carry an error code name');
    }
    throw new VaultError(UNAVAILABLE, `the NSM refused the attestation request: ${body}`, 503);
  }
  if (variant !== 'Attestation') {
    throw malformed(`expected "Attestation" or "Error", got ${quoted(variant)}`);
  }
  if (!(body instanceof Map) || body.size !== 1 || !body.has('document')) {
    throw malformed('"Attestation" must be a map holding only "document"');
  }
  const document: unknown = body.get('document');
  if (
    !(document instanceof Uint8Array) ||
    document.length === 0 ||
    document.length > MAX_DOCUMENT_BYTES
  ) {
    throw malformed(`"document" must be a byte string of 1..${MAX_DOCUMENT_BYTES} bytes`);
  }
  return document;
}

function sameBinding(actual: Uint8Array | null, requested: Uint8Array | undefined): boolean {
  // The NSM may return an empty binding as null; either way the document binds nothing.
  const a = actual ?? new Uint8Array(0);
  const b = requested ?? new Uint8Array(0);
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * A document must carry what was asked: a well-formed COSE_Sign1 attestation whose public_key,
 * user_data and nonce are the request's. Its signature and chain are the verifier's business;
 * this catches a device answering the wrong request before the document leaves the node.
 */
function checkEcho(document: Uint8Array, request: AttestationRequest): void {
  let fields: AttestationFields;
  try {
    fields = unverifiedAttestationFields(document);
  } catch (err) {
    throw malformed(`its document is not an attestation (${(err as Error).message})`);
  }
  for (const [name, actual, requested] of [
    ['public_key', fields.publicKey, request.publicKey],
    ['user_data', fields.userData, request.userData],
    ['nonce', fields.nonce, request.nonce],
  ] as const) {
    if (!sameBinding(actual, requested)) {
      throw new VaultError(
        UNAVAILABLE,
        `the NSM returned a document whose ${name} is not the requested one`,
        502,
      );
    }
  }
}

/** One attestation through `transport`: encode, call, decode strictly, check the echo. */
export function nsmAttest(
  transport: NsmTransport,
  devicePath: string,
  request: AttestationRequest,
): Uint8Array {
  const encoded = encodeAttestationRequest(request);
  let response: Uint8Array;
  try {
    response = transport(devicePath, encoded);
  } catch (err) {
    if (err instanceof VaultError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new VaultError(UNAVAILABLE, `the NSM request failed: ${reason}`, 503);
  }
  if (!(response instanceof Uint8Array)) throw malformed('the transport returned no bytes');
  const document = decodeAttestationResponse(response);
  checkEcho(document, request);
  return document;
}

/** The addon as native/nsm.cc exports it. */
interface NsmAddon {
  nsmCall(devicePath: string, request: Uint8Array): Uint8Array;
  readonly requestMaxBytes: number;
  readonly responseMaxBytes: number;
}

export type NsmAddonStatus =
  | { available: true; path: string }
  | { available: false; reason: string };

export const NSM_ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/vigil_nsm.node', import.meta.url),
);

/** Loads the addon at `path` (tests point it elsewhere); never throws. */
export function loadNsmAddon(path: string = NSM_ADDON_PATH): {
  addon: NsmAddon | undefined;
  status: NsmAddonStatus;
} {
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<NsmAddon>;
    if (typeof addon.nsmCall !== 'function') throw new Error('addon lacks nsmCall; run npm ci');
    // A stale build with other limits would disagree with the checks made here.
    if (
      addon.requestMaxBytes !== NSM_REQUEST_MAX_BYTES ||
      addon.responseMaxBytes !== NSM_RESPONSE_MAX_BYTES
    ) {
      throw new Error('addon limits differ from NSM_REQUEST/RESPONSE_MAX_SIZE; run npm ci');
    }
    return { addon: addon as NsmAddon, status: { available: true, path } };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      addon: undefined,
      status: {
        available: false,
        reason: `the NSM driver addon (${path}) is not loaded: ${why}; build it with npm ci on Linux`,
      },
    };
  }
}

let loaded: ReturnType<typeof loadNsmAddon> | undefined;

/** Whether this build can talk to /dev/nsm, and if not why. Loaded once per thread. */
export function nsmAddonStatus(): NsmAddonStatus {
  loaded ??= loadNsmAddon();
  return loaded.status;
}

/** The production transport: the addon's nsmCall, or ATTESTATION_UNAVAILABLE saying why not. */
export const nativeNsmTransport: NsmTransport = (devicePath, request) => {
  loaded ??= loadNsmAddon();
  if (loaded.addon === undefined) {
    const reason = loaded.status.available ? 'unknown' : loaded.status.reason;
    throw new VaultError(UNAVAILABLE, `${devicePath} is present but ${reason}`, 503);
  }
  return loaded.addon.nsmCall(devicePath, request);
};
