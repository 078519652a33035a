/**
 * The vault's portable public face, for clients that run outside Node (browsers, React Native)
 * as well as in it: the wire protocol over noble (no libsecp256k1, no node:crypto), the error
 * type, and the attestation verifiers: AWS Nitro (its X.509 chain read by our DER reader and
 * checked with noble's P-384, vault/enclave/nitro-pki.ts) and the INSECURE development one. Nothing here imports a server,
 * a disk, a socket or a Node built-in; the client SDK (client-lib/sdk.ts) reaches the vault only
 * through this file, and a test bundles the SDK for the browser to hold it to that (docs/sdk.md).
 * `index.ts` remains the vault's full face; it exports all of this too.
 */
export type {
  AttestationKind,
  AttestationPolicy,
  AttestationVerifier,
  VerifiedAttestation,
} from './enclave/attestation.ts';
export {
  DEV_INSECURE_NOTICE,
  DEV_MODULE_ID,
  DevAttestationVerifier,
  type DevAttestationVerifierOptions,
} from './enclave/dev-attestation.ts';
export { NitroAttestationVerifier, verifyNitroAttestation } from './enclave/nitro-verifier.ts';
export { VaultError } from './errors.ts';
export * from './protocol/portable.ts';
