import { existsSync } from 'node:fs';
import { VaultError } from '../errors.ts';
import type { AttestationProvider, AttestationRequest } from './attestation.ts';
import {
  encodeAttestationRequest,
  type NsmTransport,
  nativeNsmTransport,
  nsmAttest,
} from './nsm.ts';

export const NSM_DEVICE = '/dev/nsm';

export interface NitroAttestationProviderOptions {
  /** The raw device exchange; default the native addon's ioctl. Tests put a fake NSM here. */
  readonly transport?: NsmTransport;
}

/**
 * The production provider: asks the Nitro Secure Module (/dev/nsm) for a signed document
 * through the native addon's ioctl (see nsm.ts and docs/enclave.md). /dev/nsm exists only inside
 * a Nitro enclave; elsewhere, or when the addon is not built, attest() fails loudly instead of
 * pretending. The call is synchronous on the device; it blocks this thread until the NSM answers.
 */
export class NitroAttestationProvider implements AttestationProvider {
  readonly kind = 'aws-nitro' as const;
  readonly insecure = false;
  readonly #device: string;
  readonly #transport: NsmTransport;

  constructor(device: string = NSM_DEVICE, options: NitroAttestationProviderOptions = {}) {
    this.#device = device;
    this.#transport = options.transport ?? nativeNsmTransport;
  }

  async attest(request: AttestationRequest): Promise<Uint8Array> {
    // A request no NSM would accept is the caller's bug wherever it runs: refuse it first.
    encodeAttestationRequest(request);
    if (!existsSync(this.#device)) {
      throw new VaultError(
        'ATTESTATION_UNAVAILABLE',
        `Nitro attestation is not available outside a Nitro enclave (${this.#device} is absent)`,
        503,
      );
    }
    return nsmAttest(this.#transport, this.#device, request);
  }
}
