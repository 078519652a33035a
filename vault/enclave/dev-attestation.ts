import { ed25519 } from '@noble/curves/ed25519.js';
import { sha384 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { encode } from 'cborg';
import { VaultError } from '../errors.ts';
import type {
  AttestationPolicy,
  AttestationProvider,
  AttestationRequest,
  AttestationVerifier,
  VerifiedAttestation,
} from './attestation.ts';
import {
  decodeCbor,
  encodeCoseSign1,
  headerIsExactly,
  parseCoseSign1,
  sign1SigStructure,
} from './cose.ts';
import {
  MAX_DOCUMENT_BYTES,
  MAX_NONCE_BYTES,
  MAX_PUBLIC_KEY_BYTES,
  MAX_USER_DATA_BYTES,
  PCR_BYTES,
} from './limits.ts';
import { bytesField, fieldOf, isDebugMeasurement, parseAttestationFields } from './payload.ts';
import { applyPolicy } from './policy.ts';

/**
 * Insecure development attestation: documents with the Nitro document's logical shape, signed by
 * an Ed25519 dev key instead of the Nitro hypervisor. They prove nothing about the code that
 * produced them; they exist so a cluster of plain processes on a laptop can run the same
 * protocol. Both ends refuse to exist without `insecureDevAttestation: true`
 * (CLI: --insecure-dev-attestation), and every document says what it is, twice.
 */
export const DEV_MODULE_ID = 'INSECURE-DEV-ATTESTATION';
export const DEV_INSECURE_NOTICE =
  'INSECURE: development attestation, not produced by an enclave; it proves nothing';
export const DEV_ATTESTATION_WARNING =
  'INSECURE DEV ATTESTATION ENABLED (--insecure-dev-attestation): attestation documents are signed by a ' +
  'local dev key and prove nothing; never use this mode with real funds';

/** COSE alg -8 = EdDSA; content type 3 names the format so it can never pass as a Nitro document. */
const EDDSA = -8;
const DEV_CONTENT_TYPE = 'application/vnd.vigil.insecure-dev-attestation+cbor';
const PROTECTED_BYTES = encode(
  new Map<number, unknown>([
    [1, EDDSA],
    [3, DEV_CONTENT_TYPE],
  ]),
);
const DEV_PCR_TAG = utf8ToBytes('vigil/insecure-dev-attestation/pcr/v1');

export interface DevAttestationOptions {
  /** Must be exactly true: the caller has chosen insecure mode on purpose. */
  readonly insecureDevAttestation: boolean;
  /** Receives the loud warning once, at construction. Default: process.emitWarning (console.warn without Node). */
  readonly warn?: (message: string) => void;
}

export interface DevAttestationProviderOptions extends DevAttestationOptions {
  /** 32-byte Ed25519 secret key of this dev "enclave". */
  readonly signingKey: Uint8Array;
  /** Fake measurements by index; PCR0..2 default to a fixed non-zero dev value. */
  readonly pcrs?: Readonly<Record<number, Uint8Array>>;
  /** Clock (a shell concern); default Date.now. */
  readonly now?: () => number;
}

export interface DevAttestationVerifierOptions extends DevAttestationOptions {
  /** Ed25519 public keys of the dev providers this verifier accepts. */
  readonly trustedKeys: readonly Uint8Array[];
}

function requireInsecureFlag(options: DevAttestationOptions, what: string): void {
  if (options.insecureDevAttestation !== true) {
    throw new VaultError(
      'DEV_ATTESTATION_NOT_ENABLED',
      `${what} refuses to start without insecureDevAttestation: true (--insecure-dev-attestation)`,
      500,
    );
  }
  (options.warn ?? emitWarning)(DEV_ATTESTATION_WARNING);
}

/** Node's process warning, or the console where there is no `process` (a browser, an app). */
function emitWarning(message: string): void {
  type Warn = (m: string, o: { code: string }) => void;
  const proc = (globalThis as { process?: { emitWarning?: Warn } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, { code: 'VIGIL_INSECURE_DEV_ATTESTATION' });
  else console.warn(message);
}

/** The fixed fake measurement of dev PCR `index`: SHA-384(tag ‖ index). */
export function devPcr(index: number): Uint8Array {
  return sha384(Uint8Array.of(...DEV_PCR_TAG, index));
}

function optionalField(
  value: Uint8Array | undefined,
  name: string,
  max: number,
): Uint8Array | null {
  if (value === undefined) return null;
  if (value.length > max) {
    throw new VaultError('ATTESTATION_REQUEST_INVALID', `${name} is longer than ${max} bytes`);
  }
  return value;
}

export class DevAttestationProvider implements AttestationProvider {
  readonly kind = 'insecure-dev' as const;
  readonly insecure = true;
  readonly publicKey: Uint8Array;
  readonly #signingKey: Uint8Array;
  readonly #pcrs: Map<number, Uint8Array>;
  readonly #now: () => number;

  constructor(options: DevAttestationProviderOptions) {
    requireInsecureFlag(options, 'dev attestation provider');
    if (options.signingKey.length !== 32) {
      throw new VaultError('ATTESTATION_REQUEST_INVALID', 'dev signing key must be 32 bytes', 500);
    }
    this.#signingKey = Uint8Array.from(options.signingKey);
    this.publicKey = ed25519.getPublicKey(this.#signingKey);
    this.#pcrs = new Map([0, 1, 2].map((i) => [i, devPcr(i)]));
    for (const [key, value] of Object.entries(options.pcrs ?? {})) {
      if (value.length !== PCR_BYTES) {
        throw new VaultError(
          'ATTESTATION_REQUEST_INVALID',
          `dev PCR${key} must be ${PCR_BYTES} bytes`,
          500,
        );
      }
      this.#pcrs.set(Number(key), Uint8Array.from(value));
    }
    this.#now = options.now ?? Date.now;
  }

  async attest(request: AttestationRequest): Promise<Uint8Array> {
    const payload = encode(
      new Map<string, unknown>([
        ['module_id', DEV_MODULE_ID],
        ['insecure', DEV_INSECURE_NOTICE],
        ['digest', 'SHA384'],
        ['timestamp', this.#now()],
        ['pcrs', this.#pcrs],
        ['dev_key', this.publicKey],
        ['public_key', optionalField(request.publicKey, 'public_key', MAX_PUBLIC_KEY_BYTES)],
        ['user_data', optionalField(request.userData, 'user_data', MAX_USER_DATA_BYTES)],
        ['nonce', optionalField(request.nonce, 'nonce', MAX_NONCE_BYTES)],
      ]),
    );
    const signature = ed25519.sign(sign1SigStructure(PROTECTED_BYTES, payload), this.#signingKey);
    return encodeCoseSign1(PROTECTED_BYTES, payload, signature);
  }
}

export class DevAttestationVerifier implements AttestationVerifier {
  readonly kind = 'insecure-dev' as const;
  readonly #trusted: Uint8Array[];

  constructor(options: DevAttestationVerifierOptions) {
    requireInsecureFlag(options, 'dev attestation verifier');
    if (options.trustedKeys.length === 0 || options.trustedKeys.some((k) => k.length !== 32)) {
      throw new VaultError(
        'ATTESTATION_POLICY_INVALID',
        'dev verifier needs 32-byte Ed25519 trusted keys',
        500,
      );
    }
    this.#trusted = options.trustedKeys.map((k) => Uint8Array.from(k));
  }

  verify(document: Uint8Array, policy: AttestationPolicy = {}): VerifiedAttestation {
    if (document.length > MAX_DOCUMENT_BYTES) {
      throw new VaultError(
        'ATTESTATION_TOO_LARGE',
        `attestation document exceeds ${MAX_DOCUMENT_BYTES} bytes`,
      );
    }
    const cose = parseCoseSign1(document, 'ATTESTATION_MALFORMED');
    if (
      !headerIsExactly(cose.protectedHeader, [
        [1, EDDSA],
        [3, DEV_CONTENT_TYPE],
      ])
    ) {
      throw new VaultError('ATTESTATION_MALFORMED', 'not an insecure dev attestation document');
    }
    const payload = decodeCbor(cose.payload, 'ATTESTATION_MALFORMED', 'attestation payload');
    const fields = parseAttestationFields(payload);
    const map = payload as Map<unknown, unknown>;
    if (fields.moduleId !== DEV_MODULE_ID || fieldOf(map, 'insecure') !== DEV_INSECURE_NOTICE) {
      throw new VaultError('ATTESTATION_MALFORMED', 'dev attestation lacks its insecurity markers');
    }
    const devKey = bytesField(map, 'dev_key', 32);
    if (
      !this.#trusted.some((k) => k.length === devKey.length && k.every((b, i) => b === devKey[i]))
    ) {
      throw new VaultError(
        'ATTESTATION_UNTRUSTED_ROOT',
        'dev attestation is signed by an untrusted dev key',
      );
    }
    let valid = false;
    try {
      valid = ed25519.verify(
        cose.signature,
        sign1SigStructure(cose.protectedBytes, cose.payload),
        devKey,
      );
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new VaultError(
        'ATTESTATION_BAD_SIGNATURE',
        'dev attestation signature does not verify',
      );
    }
    applyPolicy(fields, policy, policy.at ?? new Date());
    return {
      kind: 'insecure-dev',
      insecure: true,
      moduleId: fields.moduleId,
      timestamp: new Date(fields.timestampMs),
      pcrs: fields.pcrs,
      publicKey: fields.publicKey,
      userData: fields.userData,
      nonce: fields.nonce,
      debug: isDebugMeasurement(fields.pcrs),
    };
  }
}
