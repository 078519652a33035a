/**
 * The attestation seam. A node proves what code it runs by asking its provider for a document
 * that binds its keys (public_key, user_data) and a verifier's nonce; peers, clients and KMS check
 * such documents with a verifier. Nitro and the insecure dev mode both implement these interfaces,
 * so the rest of the vault never needs to know which one is in use — except through `insecure`.
 */

/** What a node asks its provider to attest. Absent fields are encoded as CBOR null. */
export interface AttestationRequest {
  /** Key the document vouches for (KMS Recipient: the enclave's RSA SPKI DER). At most 1024 B. */
  readonly publicKey?: Uint8Array;
  /** Application binding, e.g. a hash of the node's keys. At most 512 B. */
  readonly userData?: Uint8Array;
  /** The verifier's fresh challenge. At most 512 B. */
  readonly nonce?: Uint8Array;
}

export type AttestationKind = 'aws-nitro' | 'insecure-dev';

export interface AttestationProvider {
  readonly kind: AttestationKind;
  /** True when documents from this provider prove nothing (dev mode). */
  readonly insecure: boolean;
  attest(request: AttestationRequest): Promise<Uint8Array>;
}

/** What a verifier demands of a document beyond its signature and chain. */
export interface AttestationPolicy {
  /** Check time for certificate validity and freshness. Default: now. Use the document's own
   *  timestamp only to replay recorded documents. */
  readonly at?: Date;
  /** Reject documents older than this many milliseconds at `at`. */
  readonly maxAgeMs?: number;
  /** Expected PCR values by index (any subset). Values are bytes or lowercase hex. */
  readonly expectedPcrs?: Readonly<Record<number, Uint8Array | string>>;
  /** Accept debug-mode enclaves (PCR0, PCR1 and PCR2 all zero). Never in production. */
  readonly allowDebug?: boolean;
  /** The nonce this verifier issued; compared byte for byte. */
  readonly expectedNonce?: Uint8Array;
  /** The key the document must carry in public_key. */
  readonly expectedPublicKey?: Uint8Array;
  /** The binding the document must carry in user_data (e.g. a hash of the node's keys). */
  readonly expectedUserData?: Uint8Array;
}

export interface VerifiedAttestation {
  readonly kind: AttestationKind;
  readonly insecure: boolean;
  readonly moduleId: string;
  readonly timestamp: Date;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
  /** True when PCR0, PCR1 and PCR2 are all zero (Nitro debug mode). */
  readonly debug: boolean;
}

export interface AttestationVerifier {
  readonly kind: AttestationKind;
  /** Throws VaultError with an ATTESTATION_* code when the document or policy check fails. */
  verify(document: Uint8Array, policy?: AttestationPolicy): VerifiedAttestation;
}
