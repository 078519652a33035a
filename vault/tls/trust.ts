/**
 * Whom a client trusts, in a form that crosses a thread boundary (plain strings): the dev keys
 * of an INSECURE dev cluster, or the PCRs of the enclave image. From it, the attestation
 * verifier and the attested-TLS fetch (plain HTTP allowed only in the dev case).
 */
import {
  type AttestationVerifier,
  DevAttestationVerifier,
  NitroAttestationVerifier,
} from '../enclave/index.ts';
import { AttestedTls } from './attested-fetch.ts';

export type VaultTrust =
  | { kind: 'insecure-dev'; devKeys: string[] }
  | { kind: 'nitro'; pcrs: Record<number, string> };

/** `warn` receives the dev verifier's loud warning (default: a process warning). */
export function trustVerifier(t: VaultTrust, warn?: (m: string) => void): AttestationVerifier {
  if (t.kind === 'insecure-dev') {
    return new DevAttestationVerifier({
      insecureDevAttestation: true,
      trustedKeys: t.devKeys.map((k) => new Uint8Array(Buffer.from(k, 'hex'))),
      ...(warn ? { warn } : {}),
    });
  }
  return new NitroAttestationVerifier({ expectedPcrs: t.pcrs });
}

export function attestedTlsFor(t: VaultTrust, warn?: (m: string) => void): AttestedTls {
  return new AttestedTls({
    verifier: trustVerifier(t, warn),
    allowPlainHttp: t.kind === 'insecure-dev',
  });
}
