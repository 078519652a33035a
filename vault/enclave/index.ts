/**
 * Enclave services of the vault: attestation (AWS Nitro verifier, insecure dev provider and
 * verifier), sealing of the node storage key (key file for development, AWS KMS with Recipient
 * attestation in production) and the authenticated-encryption box for values at rest.
 * See docs/enclave.md.
 */

import { useNitroPki } from './nitro-pki.ts';
import { nodeNitroPki } from './node-nitro-pki.ts';

// Every Node process that loads this face checks Nitro chains with OpenSSL (nitro-pki.ts).
useNitroPki(nodeNitroPki);

export type {
  AttestationKind,
  AttestationPolicy,
  AttestationProvider,
  AttestationRequest,
  AttestationVerifier,
  VerifiedAttestation,
} from './attestation.ts';
export { decryptEnvelopedData, type EnvelopedData, parseEnvelopedData } from './cms.ts';
export {
  DEV_ATTESTATION_WARNING,
  DEV_INSECURE_NOTICE,
  DEV_MODULE_ID,
  DevAttestationProvider,
  type DevAttestationProviderOptions,
  DevAttestationVerifier,
  type DevAttestationVerifierOptions,
  devPcr,
} from './dev-attestation.ts';
export { createFileExclusive } from './durable-file.ts';
export {
  type AwsCredentials,
  type AwsCredentialsProvider,
  decodeAwsCredentials,
  encodeAwsCredentials,
  type HostCredentialOptions,
  hostCredentialProvider,
} from './host-credentials.ts';
export { KeyFileSealer, type KeyFileSealerOptions } from './key-file-sealer.ts';
export {
  type BlobKeeper,
  fileBlobKeeper,
  KmsSealer,
  type KmsSealerOptions,
  type RecipientKeyPair,
} from './kms-sealer.ts';
export { MAX_DOCUMENT_BYTES } from './limits.ts';
export { type NitroLeaf, type NitroPki, nitroPki, useNitroPki } from './nitro-pki.ts';
export {
  NitroAttestationProvider,
  type NitroAttestationProviderOptions,
  NSM_DEVICE,
} from './nitro-provider.ts';
export { AWS_NITRO_ROOT_G1_SHA256 } from './nitro-root.ts';
export { NitroAttestationVerifier, verifyNitroAttestation } from './nitro-verifier.ts';
export {
  decodeAttestationResponse,
  encodeAttestationRequest,
  NSM_REQUEST_MAX_BYTES,
  NSM_RESPONSE_MAX_BYTES,
  type NsmAddonStatus,
  type NsmTransport,
  nsmAddonStatus,
} from './nsm.ts';
export { documentTimestamp } from './payload.ts';
export { type Sealer, STORAGE_KEY_BYTES } from './sealer.ts';
export { type RandomBytes, STORAGE_BOX_VERSION, StorageBox } from './storage-box.ts';
