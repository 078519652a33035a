import { hexToBytes } from '@noble/hashes/utils.js';
import { VaultError } from '../errors.ts';
import { bytesEqual } from '../protocol/hex.ts';
import type { AttestationPolicy } from './attestation.ts';
import { PCR_BYTES } from './limits.ts';
import { type AttestationFields, isDebugMeasurement } from './payload.ts';

function expectedPcrBytes(index: number, value: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'string') {
    if (!/^[0-9a-f]*$/.test(value)) {
      throw new VaultError(
        'ATTESTATION_POLICY_INVALID',
        `expected PCR${index} is not lowercase hex`,
      );
    }
    bytes = hexToBytes(value);
  } else {
    bytes = value;
  }
  if (bytes.length !== PCR_BYTES) {
    throw new VaultError(
      'ATTESTATION_POLICY_INVALID',
      `expected PCR${index} must be ${PCR_BYTES} bytes`,
    );
  }
  return bytes;
}

function checkBinding(
  name: string,
  actual: Uint8Array | null,
  expected: Uint8Array | undefined,
): void {
  if (expected === undefined) return;
  if (actual === null || !bytesEqual(actual, expected)) {
    throw new VaultError(
      'ATTESTATION_BINDING_MISMATCH',
      `attestation ${name} does not match the expected value`,
    );
  }
}

/**
 * The checks every verifier applies after the document's own signature is established:
 * freshness, debug mode, PCRs, nonce and the key bindings. Order is from the most general
 * failure to the most specific so that error codes are predictable.
 */
export function applyPolicy(fields: AttestationFields, policy: AttestationPolicy, at: Date): void {
  if (policy.maxAgeMs !== undefined) {
    const age = at.getTime() - fields.timestampMs;
    if (age > policy.maxAgeMs) {
      throw new VaultError(
        'ATTESTATION_STALE',
        `attestation is ${age} ms old (limit ${policy.maxAgeMs} ms)`,
      );
    }
    if (age < -policy.maxAgeMs) {
      throw new VaultError('ATTESTATION_STALE', 'attestation timestamp lies in the future');
    }
  }
  if (isDebugMeasurement(fields.pcrs) && policy.allowDebug !== true) {
    throw new VaultError(
      'ATTESTATION_DEBUG_ENCLAVE',
      'attestation comes from a debug-mode enclave (PCR0/1/2 are zero)',
    );
  }
  for (const [key, value] of Object.entries(policy.expectedPcrs ?? {})) {
    const index = Number(key);
    const expected = expectedPcrBytes(index, value);
    const actual = fields.pcrs.get(index);
    if (actual === undefined || !bytesEqual(actual, expected)) {
      throw new VaultError(
        'ATTESTATION_PCR_MISMATCH',
        `attestation PCR${index} does not match the policy`,
      );
    }
  }
  if (policy.expectedNonce !== undefined) {
    if (fields.nonce === null || !bytesEqual(fields.nonce, policy.expectedNonce)) {
      throw new VaultError(
        'ATTESTATION_NONCE_MISMATCH',
        'attestation nonce does not match the issued nonce',
      );
    }
  }
  checkBinding('public_key', fields.publicKey, policy.expectedPublicKey);
  checkBinding('user_data', fields.userData, policy.expectedUserData);
}
