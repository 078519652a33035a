import { portableNitroPki } from './portable-nitro-pki.ts';

/**
 * The X.509 and ECDSA P-384 work of verifying a Nitro document, behind one seam (as the
 * protocol's curve primitives are, vault/protocol/primitives.ts). The document checks run the same
 * everywhere; only this differs:
 * - the portable implementation (portable-nitro-pki.ts: our DER reader, @noble/curves' p384): the
 *   default, and what the client SDK runs in browsers, React Native and Node (docs/sdk.md);
 * - OpenSSL's, through node:crypto's X509Certificate (node-nitro-pki.ts), which
 *   `vault/enclave/index.ts` installs in every Node process that loads the vault's full face.
 * Both give the same verdict and error code on the same bytes (nitro-pki.test.ts holds them to it).
 */
export interface NitroPki {
  /**
   * Verifies leaf ← cabundle[n-1] ← … ← cabundle[0] = the pinned AWS root: every link signed by
   * its parent, every issuer a CA allowed to sign certificates within its pathLenConstraint, the
   * leaf not a CA and allowed to sign, all P-384, all valid at `at`. Throws VaultError
   * (ATTESTATION_UNTRUSTED_ROOT, _MALFORMED, _BAD_CHAIN, _NOT_YET_VALID, _EXPIRED).
   */
  verifyChain(leafDer: Uint8Array, cabundle: readonly Uint8Array[], at: Date): NitroLeaf;
}

/** The leaf certificate of a verified chain: its validity and its key. */
export interface NitroLeaf {
  /** Milliseconds since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** ES384 (SHA-384, P-384, r||s of 48 bytes each, high s accepted) by the leaf's key. */
  verifyEs384(message: Uint8Array, signature: Uint8Array): boolean;
}

let active: NitroPki = portableNitroPki;

/** The implementation in use in this process (portable unless a Node shell installed OpenSSL's). */
export function nitroPki(): NitroPki {
  return active;
}

export function useNitroPki(pki: NitroPki): void {
  active = pki;
}
