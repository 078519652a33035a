export { type AttestedFetchOptions, AttestedTls } from './attested-fetch.ts';
export { newTlsIdentity, type TlsIdentity, tlsKeyBinding } from './certificate.ts';
export { agentsThrough } from './seam-agents.ts';
export { attestedTlsFor, trustVerifier, type VaultTrust } from './trust.ts';
