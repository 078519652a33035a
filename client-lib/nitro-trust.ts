/** A wallet's attestation trust as a verifier, AWS Nitro included (Node: X.509 in node:crypto). */
import { type AttestationVerifier, NitroAttestationVerifier } from '../vault/index.ts';
import { portableVerifierFor } from './backup.ts';
import type { AttestationTrust } from './wallet.ts';

export function verifierFor(trust: AttestationTrust): AttestationVerifier {
  if (trust.kind === 'aws-nitro') return new NitroAttestationVerifier({ expectedPcrs: trust.pcrs });
  return portableVerifierFor(trust);
}
