/**
 * Key material of the two-party ECDSA scheme. Shares are additive: Q = Q_server + Q_client and
 * x = x_server + x_client (mod q), as in cb-mpc's ecdsa-2p. DESIGN.md calls the client's share x1
 * and the server's x2; in Lindell's paper the server is P1 (it owns the Paillier key, decrypts the
 * last message and alone sees the signature) and the client is P2. Names here say which party.
 */
import type { PaillierSecretKey } from '../paillier.ts';
import type { Point } from '../wire.ts';
import type { ModulusProof } from '../zk/modulus.ts';
import type { RingPedersen, RingPedersenProof, RingPedersenSecret } from '../zk/ring-pedersen.ts';

/** Minimum sizes a verifier accepts from its peer (its own policy, never the peer's claim). */
export interface SecurityPolicy {
  readonly paillierBits: number;
  readonly ringPedersenBits: number;
}

export const DEFAULT_POLICY: SecurityPolicy = { paillierBits: 2048, ringPedersenBits: 2048 };

/** A Paillier key with its Πmod, which depends on N only and so can be made in the pool. */
export interface ProvenPaillierKey {
  readonly sk: PaillierSecretKey;
  readonly modulusProof: ModulusProof;
}

/**
 * A server's Paillier key, or where to take one: a pool's take() is called only once the client's
 * message that the key answers has been accepted, so junk costs the server no pooled key.
 */
export type PaillierKeySource = ProvenPaillierKey | (() => ProvenPaillierKey);

export function paillierFrom(source: PaillierKeySource): ProvenPaillierKey {
  return typeof source === 'function' ? source() : source;
}

/**
 * The client's ring-Pedersen parameters with their proof Πprm: generated once per device (two
 * safe primes), reused by every keygen and refresh as the setup for the server's range proofs.
 */
export interface ClientSetup {
  readonly rp: RingPedersenSecret;
  readonly proof: RingPedersenProof;
}

/** Whether a key may still sign. Shared by every session on the key, so a lock stops them all. */
export interface KeyLock {
  locked: boolean;
}

export interface ServerKeyShare {
  readonly xServer: bigint;
  readonly qServer: Point;
  readonly qClient: Point;
  readonly q: Point;
  readonly chainCode: Uint8Array;
  readonly paillier: PaillierSecretKey;
  /** Enc(x_server) under the server's Paillier key; the client holds the same value. */
  readonly ckey: bigint;
  readonly clientRingPedersen: RingPedersen;
}

export interface ClientKeyShare {
  readonly xClient: bigint;
  readonly qServer: Point;
  readonly qClient: Point;
  readonly q: Point;
  readonly chainCode: Uint8Array;
  readonly paillierN: bigint;
  readonly ckey: bigint;
}

export interface EcdsaSignature {
  readonly r: bigint;
  readonly s: bigint;
  /** Parity of R.y after low-s normalisation (Ethereum's v − 27). */
  readonly recovery: 0 | 1;
}
