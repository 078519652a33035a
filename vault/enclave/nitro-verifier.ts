import { VaultError } from '../errors.ts';
import type { AttestationPolicy, AttestationVerifier, VerifiedAttestation } from './attestation.ts';
import { decodeCbor, headerIsExactly, parseCoseSign1, sign1SigStructure } from './cose.ts';
import { MAX_CABUNDLE_LENGTH, MAX_CERTIFICATE_BYTES, MAX_DOCUMENT_BYTES } from './limits.ts';
import { nitroPki } from './nitro-pki.ts';
import { bytesField, fieldOf, isDebugMeasurement, parseAttestationFields } from './payload.ts';
import { applyPolicy } from './policy.ts';

/** COSE algorithm -35 = ES384 (ECDSA P-384 with SHA-384), the only one Nitro uses. */
const ES384 = -35;
const ES384_SIGNATURE_BYTES = 96;

function parseCabundle(payload: Map<unknown, unknown>): Uint8Array[] {
  const value = fieldOf(payload, 'cabundle');
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CABUNDLE_LENGTH) {
    throw new VaultError(
      'ATTESTATION_MALFORMED',
      `attestation "cabundle" must hold 1..${MAX_CABUNDLE_LENGTH} certificates`,
    );
  }
  return value.map((der: unknown, i) => {
    if (!(der instanceof Uint8Array) || der.length === 0 || der.length > MAX_CERTIFICATE_BYTES) {
      throw new VaultError(
        'ATTESTATION_MALFORMED',
        `attestation cabundle[${i}] must be 1..${MAX_CERTIFICATE_BYTES} bytes`,
      );
    }
    return der;
  });
}

/**
 * Verifies an AWS Nitro attestation document (aws-nitro-enclaves-nsm-api,
 * docs/attestation_process.md): size cap, COSE_Sign1 with protected header exactly {1: -35},
 * payload schema, certificate chain to the pinned AWS root valid at `policy.at`, the ES384
 * signature by the leaf, then the policy. Throws VaultError (ATTESTATION_*) on any failure.
 */
export function verifyNitroAttestation(
  document: Uint8Array,
  policy: AttestationPolicy = {},
): VerifiedAttestation {
  if (document.length > MAX_DOCUMENT_BYTES) {
    throw new VaultError(
      'ATTESTATION_TOO_LARGE',
      `attestation document exceeds ${MAX_DOCUMENT_BYTES} bytes`,
    );
  }
  const at = policy.at ?? new Date();
  const cose = parseCoseSign1(document, 'ATTESTATION_MALFORMED');
  if (!headerIsExactly(cose.protectedHeader, [[1, ES384]])) {
    throw new VaultError(
      'ATTESTATION_MALFORMED',
      'COSE protected header must be exactly {1: -35} (ES384)',
    );
  }
  if (cose.signature.length !== ES384_SIGNATURE_BYTES) {
    throw new VaultError(
      'ATTESTATION_MALFORMED',
      `ES384 signature must be ${ES384_SIGNATURE_BYTES} bytes (r||s)`,
    );
  }
  const payload = decodeCbor(cose.payload, 'ATTESTATION_MALFORMED', 'attestation payload');
  const fields = parseAttestationFields(payload);
  const map = payload as Map<unknown, unknown>;
  const leafDer = bytesField(map, 'certificate', MAX_CERTIFICATE_BYTES);
  const cabundle = parseCabundle(map);

  const leaf = nitroPki().verifyChain(leafDer, cabundle, at);
  const signed = sign1SigStructure(cose.protectedBytes, cose.payload);
  if (!leaf.verifyEs384(signed, cose.signature)) {
    throw new VaultError(
      'ATTESTATION_BAD_SIGNATURE',
      'COSE_Sign1 signature does not verify with the leaf certificate',
    );
  }
  if (fields.timestampMs < leaf.notBefore || fields.timestampMs > leaf.notAfter) {
    throw new VaultError(
      'ATTESTATION_INVALID',
      'attestation timestamp lies outside its leaf certificate validity',
    );
  }

  applyPolicy(fields, policy, at);
  return {
    kind: 'aws-nitro',
    insecure: false,
    moduleId: fields.moduleId,
    timestamp: new Date(fields.timestampMs),
    pcrs: fields.pcrs,
    publicKey: fields.publicKey,
    userData: fields.userData,
    nonce: fields.nonce,
    debug: isDebugMeasurement(fields.pcrs),
  };
}

export class NitroAttestationVerifier implements AttestationVerifier {
  readonly kind = 'aws-nitro' as const;
  readonly #defaults: AttestationPolicy;

  /** `defaults` (e.g. the production PCRs) are merged under each call's policy. */
  constructor(defaults: AttestationPolicy = {}) {
    this.#defaults = defaults;
  }

  verify(document: Uint8Array, policy: AttestationPolicy = {}): VerifiedAttestation {
    return verifyNitroAttestation(document, { ...this.#defaults, ...policy });
  }
}
