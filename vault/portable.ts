/**
 * The vault's portable public face, for clients that run outside Node (browsers, React Native)
 * as well as in it: the wire protocol over noble (no libsecp256k1, no node:crypto), the error
 * type, and the verifier of the INSECURE development attestation. Nothing here imports a server,
 * a disk, a socket or a Node built-in; the client SDK (client-lib/sdk.ts) reaches the vault only
 * through this file, and a test bundles the SDK for the browser to hold it to that (docs/sdk.md).
 * `index.ts` remains the vault's full face; it exports all of this too.
 *
 * Verifying AWS Nitro documents needs X.509 chain validation, which this face does not offer: it
 * is in `index.ts` (node:crypto).
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
export { VaultError } from './errors.ts';
export * from './protocol/portable.ts';
