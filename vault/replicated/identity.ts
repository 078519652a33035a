/**
 * A cluster member's identity: a fresh static X25519 key per process start (ids are never
 * reused, P4) and an attestation document binding it; peers admit a key only after verifying it.
 */
import { randomBytes } from 'node:crypto';
import { keyPairFromPrivate, type StaticKeyPair } from '../../cluster/index.ts';
import {
  type AttestationPolicy,
  type AttestationProvider,
  type AttestationVerifier,
  documentTimestamp,
  type VerifiedAttestation,
} from '../enclave/index.ts';
import { VaultError } from '../errors.ts';
import { bytesEqual, canonicalHash, toHex, u32, u64, utf8 } from '../protocol/index.ts';
import type { Member } from './codec.ts';

/**
 * What a member's attestation document binds in its user_data: its static key and every field
 * of its directory record. Nobody can take an attested record and change where its node is
 * reached, which slot it claims or which generation it is (issue 11 item 10): a replayed
 * record is exactly what its node said about itself.
 */
export function memberBinding(m: Omit<Member, 'id' | 'attestation'>): Uint8Array {
  return canonicalHash('vigil/v1/cluster/member', [
    m.publicKey,
    utf8(m.host),
    u32(m.port),
    utf8(m.httpUrl),
    utf8(m.slot),
    u64(m.generation),
  ]);
}

export function nodeIdOf(publicKey: Uint8Array): string {
  return toHex(publicKey).slice(0, 16);
}

export interface Identity {
  id: string;
  staticKey: StaticKeyPair;
  provider: AttestationProvider;
}

export function newIdentity(provider: AttestationProvider): Identity {
  return identityOf(provider, randomBytes(32));
}

/** The identity of a link key kept across restarts (a one-member cluster's: vault/node). */
export function identityOf(provider: AttestationProvider, privateKey: Uint8Array): Identity {
  const staticKey = keyPairFromPrivate(privateKey);
  return { id: nodeIdOf(staticKey.publicKey), staticKey, provider };
}

/** This node's directory record, its document binding every field (`memberBinding`). */
export async function attestMember(
  identity: Identity,
  where: Pick<Member, 'host' | 'port' | 'httpUrl' | 'slot' | 'generation'>,
): Promise<Member> {
  const fields = {
    publicKey: identity.staticKey.publicKey,
    host: where.host,
    port: where.port,
    httpUrl: where.httpUrl,
    slot: where.slot,
    generation: where.generation,
  };
  const attestation = await identity.provider.attest({
    publicKey: fields.publicKey,
    userData: memberBinding(fields),
  });
  return { id: identity.id, ...fields, attestation };
}

export interface PeerVerifierOptions {
  /** The document verifier: Nitro (pinned AWS root) or the insecure dev one. */
  verifier: AttestationVerifier;
  /**
   * The trusted images: a peer's measurements must match one of these PCR sets (by index,
   * lowercase hex). Several during a rolling upgrade; none: no PCR check (dev only).
   */
  images?: ReadonlyArray<Readonly<Record<number, string>>>;
  /** Fixed verification time (tests replaying recorded documents). Default: see `verify`. */
  at?: Date;
  /** Receives one line per refused peer and reason. */
  log?: (line: string) => void;
}

const MAX_REMEMBERED_REFUSALS = 1_024;

/**
 * The cluster's peer policy over a document verifier: the configured PCRs are demanded of every
 * member, and a refusal is logged with its reason (once per member and reason, since the whole
 * directory is re-checked on each membership change).
 */
export class PeerVerifier implements AttestationVerifier {
  readonly kind: AttestationVerifier['kind'];
  readonly #inner: AttestationVerifier;
  readonly #images: ReadonlyArray<Readonly<Record<number, string>>>;
  readonly #at: Date | undefined;
  readonly #log: (line: string) => void;
  readonly #logged = new Set<string>();

  constructor(o: PeerVerifierOptions) {
    this.#inner = o.verifier;
    this.kind = o.verifier.kind;
    this.#images = o.images ?? [];
    this.#at = o.at;
    this.#log = o.log ?? (() => {});
  }

  /**
   * A member's document is judged at its own signed time: Nitro leaf certificates expire within
   * hours, while the document stays in the replicated directory for the member's whole life and
   * is re-checked by every node that joins later. Age proves nothing here (the document only
   * vouches for a key whose private half never leaves the enclave); the PCR policy decides which
   * images are trusted, and removing an image's PCRs retires all of its members.
   */
  verify(document: Uint8Array, policy: AttestationPolicy = {}): VerifiedAttestation {
    const at = this.#at ?? documentTimestamp(document);
    if (this.#images.length === 0) return this.#inner.verify(document, { ...policy, at });
    for (const expectedPcrs of this.#images) {
      try {
        return this.#inner.verify(document, { ...policy, expectedPcrs, at });
      } catch (e) {
        // PCRs are checked before the key bindings, so any other failure is the same for
        // every image: no need to try the rest
        const mismatch = e instanceof VaultError && e.code === 'ATTESTATION_PCR_MISMATCH';
        if (!mismatch || this.#images.length === 1) throw e;
      }
    }
    throw new VaultError(
      'ATTESTATION_PCR_MISMATCH',
      `attestation PCRs match none of the ${this.#images.length} trusted images`,
    );
  }

  /** Null when the member's document verifies and binds its static key and id; else why not. */
  refusal(m: Member): string | null {
    if (m.id !== nodeIdOf(m.publicKey)) return 'its id is not derived from its static key';
    let v: VerifiedAttestation;
    try {
      v = this.verify(m.attestation, {
        expectedUserData: memberBinding(m),
        expectedPublicKey: m.publicKey,
      });
    } catch (e) {
      if (e instanceof VaultError) return `${e.code}: ${e.message}`;
      return `attestation check failed: ${(e as Error).message}`;
    }
    if (v.publicKey === null || !bytesEqual(v.publicKey, m.publicKey)) {
      return 'its document does not carry its static key';
    }
    return null;
  }

  /** True when the member may be trusted; a refusal is logged with its reason. */
  admits(m: Member): boolean {
    const reason = this.refusal(m);
    if (reason === null) return true;
    const key = `${m.id} ${reason}`;
    if (!this.#logged.has(key)) {
      if (this.#logged.size >= MAX_REMEMBERED_REFUSALS) this.#logged.clear();
      this.#logged.add(key);
      this.#log(`refused peer ${m.slot}/${m.id} at ${m.host}:${m.port}: ${reason}`);
    }
    return false;
  }
}

/** True when the member's document verifies and binds its static key and id. */
export function memberAttested(verifier: AttestationVerifier, m: Member): boolean {
  const peers = verifier instanceof PeerVerifier ? verifier : new PeerVerifier({ verifier });
  return peers.admits(m);
}
