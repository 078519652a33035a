/**
 * Refresh that keeps Q. Shares are additive, so the re-randomisation is additive too:
 * x_server' = x_server + δ, x_client' = x_client − δ, with δ = δ_client + δ_server from a coin toss
 * (the client commits before it sees δ_server), so neither party controls it. The server brings a
 * fresh Paillier key with all proofs again (Πmod, Πfac, Πlog* for the new ckey against
 * Q_server' = Q_server + δ·G). Old shares stop combining to x: x_server + x_client' = x − δ.
 *   1. client → server  commit(δ_client), ring-Pedersen setup
 *   2. server → client  δ_server
 *   3. client → server  δ_client, nonce
 *   4. server → client  new encrypted share (N', Πmod, Πfac, ckey', Πlog*)
 *   5. client → server  Schnorr proof of x_client' — the server switches only now, and the
 *      client keeps its old share until the server acknowledges (both sides can then roll back).
 */
import { badState } from '../errors.ts';
import { type RandomBytes, randomScalar } from '../random.ts';
import {
  bytesToWire,
  CURVE_ORDER,
  field,
  G,
  parseBytes,
  parseScalar,
  scalarMod,
  scalarToWire,
} from '../wire.ts';
import { commit, type Opening, verifyOpening } from '../zk/commitment.ts';
import type { PartyId, ProofContext } from '../zk/context.ts';
import type { RingPedersen, RingPedersenWire } from '../zk/ring-pedersen.ts';
import { ringPedersenToWire } from '../zk/ring-pedersen.ts';
import {
  parseSchnorr,
  proveSchnorr,
  type SchnorrProofWire,
  schnorrToWire,
  verifySchnorr,
} from '../zk/schnorr.ts';
import {
  type EncryptedShareWire,
  proveEncryptedShare,
  verifyEncryptedShare,
} from './encrypted-share.ts';
import { acceptClientOpening } from './keygen.ts';
import {
  type ClientKeyShare,
  type ClientSetup,
  DEFAULT_POLICY,
  type PaillierKeySource,
  type ProvenPaillierKey,
  paillierFrom,
  type SecurityPolicy,
  type ServerKeyShare,
} from './types.ts';

export interface RefreshMsg1 {
  commitment: string;
  ringPedersen: RingPedersenWire;
}
export interface RefreshMsg2 {
  delta: string;
}
export interface RefreshMsg3 {
  delta: string;
  nonce: string;
}
export interface RefreshMsg4 {
  share: EncryptedShareWire;
}
export interface RefreshMsg5 {
  proof: SchnorrProofWire;
}

const ctx = (sessionId: Uint8Array, prover: PartyId, purpose: string): ProofContext => ({
  sessionId,
  prover,
  purpose,
});

export class ClientRefresh {
  #phase: 'new' | 'committed' | 'opened' | 'done' = 'new';
  readonly #sessionId: Uint8Array;
  readonly #share: ClientKeyShare;
  readonly #setup: ClientSetup;
  readonly #policy: SecurityPolicy;
  readonly #rng: RandomBytes;
  #mine = 0n;
  #delta = 0n;
  #opening: Opening | undefined;

  constructor(opts: {
    sessionId: Uint8Array;
    share: ClientKeyShare;
    setup: ClientSetup;
    rng: RandomBytes;
    policy?: SecurityPolicy;
  }) {
    this.#sessionId = opts.sessionId;
    this.#share = opts.share;
    this.#setup = opts.setup;
    this.#rng = opts.rng;
    this.#policy = opts.policy ?? DEFAULT_POLICY;
  }

  start(): RefreshMsg1 {
    if (this.#phase !== 'new') throw badState('client refresh already started');
    this.#phase = 'committed';
    this.#mine = randomScalar(this.#rng, CURVE_ORDER);
    const c = commit(
      ctx(this.#sessionId, 'client', 'refresh/commit'),
      [Buffer.from(scalarToWire(this.#mine), 'hex')],
      this.#rng,
    );
    this.#opening = c.opening;
    return {
      commitment: bytesToWire(c.commitment),
      ringPedersen: ringPedersenToWire(this.#setup.rp, this.#setup.proof),
    };
  }

  open(msg2: unknown): RefreshMsg3 {
    if (this.#phase !== 'committed' || !this.#opening)
      throw badState('client refresh is not awaiting δ_server');
    this.#phase = 'opened';
    const theirs = parseScalar('delta', field(msg2, 'delta'), true);
    this.#delta = scalarMod(this.#mine + theirs);
    return { delta: scalarToWire(this.#mine), nonce: bytesToWire(this.#opening.nonce) };
  }

  /** Verifies the new encrypted share; returns the new client share and the confirmation. */
  finish(msg4: unknown): { message: RefreshMsg5; share: ClientKeyShare } {
    if (this.#phase !== 'opened') throw badState('client refresh is not awaiting the new share');
    this.#phase = 'done';
    const qServer = this.#share.qServer.add(G.multiply(this.#delta));
    const { paillierN, ckey } = verifyEncryptedShare(
      this.#sessionId,
      'refresh',
      field(msg4, 'share'),
      qServer,
      this.#setup.rp,
      this.#policy,
    );
    const xClient = scalarMod(this.#share.xClient - this.#delta);
    const share: ClientKeyShare = {
      ...this.#share,
      xClient,
      qClient: G.multiply(xClient),
      qServer,
      paillierN,
      ckey,
    };
    const proof = proveSchnorr(ctx(this.#sessionId, 'client', 'refresh/Q'), xClient, this.#rng);
    return { message: { proof: schnorrToWire(proof) }, share };
  }
}

export class ServerRefresh {
  #phase: 'new' | 'responded' | 'proved' | 'done' = 'new';
  readonly #sessionId: Uint8Array;
  readonly #share: ServerKeyShare;
  readonly #paillierSource: PaillierKeySource;
  #paillier: ProvenPaillierKey | undefined;
  readonly #policy: SecurityPolicy;
  readonly #rng: RandomBytes;
  readonly #ringPedersenVerified: (rp: RingPedersen) => boolean;
  #commitment: Uint8Array = new Uint8Array(0);
  #clientRp: RingPedersen | undefined;
  #mine = 0n;
  #next: ServerKeyShare | undefined;

  constructor(opts: {
    sessionId: Uint8Array;
    share: ServerKeyShare;
    /**
     * The new Paillier key, or a pool's take(), called only once message 1 has been accepted.
     * The old key is dropped with the old share.
     */
    paillier: PaillierKeySource;
    rng: RandomBytes;
    policy?: SecurityPolicy;
    ringPedersenVerified?: (rp: RingPedersen) => boolean;
  }) {
    this.#sessionId = opts.sessionId;
    this.#share = opts.share;
    this.#paillierSource = opts.paillier;
    this.#rng = opts.rng;
    this.#policy = opts.policy ?? DEFAULT_POLICY;
    this.#ringPedersenVerified = opts.ringPedersenVerified ?? (() => false);
  }

  respond(msg1: unknown): RefreshMsg2 {
    if (this.#phase !== 'new') throw badState('server refresh already responded');
    this.#phase = 'responded';
    ({ commitment: this.#commitment, ringPedersen: this.#clientRp } = acceptClientOpening(
      msg1,
      this.#policy,
      this.#ringPedersenVerified,
    ));
    this.#paillier = paillierFrom(this.#paillierSource);
    this.#mine = randomScalar(this.#rng, CURVE_ORDER);
    return { delta: scalarToWire(this.#mine) };
  }

  prove(msg3: unknown): RefreshMsg4 {
    const paillier = this.#paillier;
    if (this.#phase !== 'responded' || !this.#clientRp || !paillier)
      throw badState('server refresh is not awaiting δ_client');
    this.#phase = 'proved';
    const theirs = parseScalar('delta', field(msg3, 'delta'), true);
    const nonce = parseBytes('nonce', field(msg3, 'nonce'), 32);
    verifyOpening(ctx(this.#sessionId, 'client', 'refresh/commit'), this.#commitment, {
      items: [Buffer.from(scalarToWire(theirs), 'hex')],
      nonce,
    });
    const delta = scalarMod(this.#mine + theirs);
    const xServer = scalarMod(this.#share.xServer + delta);
    if (xServer === 0n) throw badState('refresh produced a zero share; run it again');
    const qServer = G.multiply(xServer);
    const enc = proveEncryptedShare(
      this.#sessionId,
      'refresh',
      xServer,
      qServer,
      paillier,
      this.#clientRp,
      this.#rng,
    );
    this.#next = {
      ...this.#share,
      xServer,
      qServer,
      qClient: this.#share.qClient.subtract(G.multiply(delta)),
      paillier: paillier.sk,
      ckey: enc.ckey,
      clientRingPedersen: this.#clientRp,
    };
    return { share: enc.wire };
  }

  /** The new share, to be stored in place of the old one (then the vault deposit follows). */
  finish(msg5: unknown): ServerKeyShare {
    if (this.#phase !== 'proved' || !this.#next)
      throw badState('server refresh is not awaiting confirmation');
    this.#phase = 'done';
    verifySchnorr(
      ctx(this.#sessionId, 'client', 'refresh/Q'),
      this.#next.qClient,
      parseSchnorr('proof', field(msg5, 'proof')),
    );
    return this.#next;
  }
}
