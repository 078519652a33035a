import { existsSync } from 'node:fs';
import { VaultError } from '../errors.ts';
import type { AttestationProvider, AttestationRequest } from './attestation.ts';

export const NSM_DEVICE = '/dev/nsm';

/**
 * The production provider asks the Nitro Secure Module (/dev/nsm) for a document through an
 * ioctl. Node cannot issue that ioctl without a native addon, which this package does not ship
 * yet, and /dev/nsm exists only inside a Nitro enclave; so this provider fails loudly instead of
 * pretending. Wiring code should construct it only in enclave builds.
 */
export class NitroAttestationProvider implements AttestationProvider {
  readonly kind = 'aws-nitro' as const;
  readonly insecure = false;
  readonly #device: string;

  constructor(device: string = NSM_DEVICE) {
    this.#device = device;
  }

  async attest(_request: AttestationRequest): Promise<Uint8Array> {
    if (!existsSync(this.#device)) {
      throw new VaultError(
        'ATTESTATION_UNAVAILABLE',
        `Nitro attestation is not available outside a Nitro enclave (${this.#device} is absent)`,
        503,
      );
    }
    throw new VaultError(
      'ATTESTATION_UNAVAILABLE',
      `${this.#device} is present but the NSM ioctl driver (native addon) is not implemented in this build`,
      501,
    );
  }
}
