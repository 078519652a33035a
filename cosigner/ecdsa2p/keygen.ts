/**
 * Two-party keygen, three messages (cb-mpc's shape):
 *   1. client → server  commit(Q_client, π_client, chain-code half), ring-Pedersen setup (Πprm)
 *   2. server → client  Q_server, π_server, chain-code half, N, Πmod, Πfac, ckey = Enc(x_server), Πlog*
 *   3. client → server  opening: Q_client, π_client, chain-code half, nonce
 * The client commits first, so neither party can choose its share after seeing the other's (no
 * rogue-key Q_client = Y − Q_server); every Schnorr proof is bound to the session and the party.
 */
import { badState, malformed } from '../errors.ts';
import { type RandomBytes, randomBytesOf, randomScalar } from '../random.ts';
import { Transcript } from '../transcript.ts';
import {
  bytesToWire,
  CURVE_ORDER,
  field,
  G,
  type Point,
  parseBytes,
  parsePoint,
  pointToWire,
  scalarToWire,
} from '../wire.ts';
import { commit, type Opening, verifyOpening } from '../zk/commitment.ts';
import type { PartyId, ProofContext } from '../zk/context.ts';
import {
  parseRingPedersen,
  type RingPedersen,
  type RingPedersenWire,
  ringPedersenToWire,
} from '../zk/ring-pedersen.ts';
import {
  parseSchnorr,
  proveSchnorr,
  type SchnorrProof,
  type SchnorrProofWire,
  schnorrToWire,
  verifySchnorr,
} from '../zk/schnorr.ts';
import {
  type EncryptedShareWire,
  proveEncryptedShare,
  verifyEncryptedShare,
} from './encrypted-share.ts';
import { verifyClientSetup } from './setup.ts';
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

export interface KeygenMsg1 {
  commitment: string;
  ringPedersen: RingPedersenWire;
}

export interface KeygenMsg2 {
  qServer: string;
  proof: SchnorrProofWire;
  chainCode: string;
  share: EncryptedShareWire;
}

export interface KeygenMsg3 {
  qClient: string;
  proof: SchnorrProofWire;
  chainCode: string;
  nonce: string;
}

const ctx = (sessionId: Uint8Array, prover: PartyId, purpose: string): ProofContext => ({
  sessionId,
  prover,
  purpose,
});

function clientItems(q: Point, proof: SchnorrProof, chainCode: Uint8Array): Uint8Array[] {
  return [
    q.toBytes(true),
    proof.a.toBytes(true),
    Buffer.from(scalarToWire(proof.z), 'hex'),
    chainCode,
  ];
}

export function jointChainCode(
  sessionId: Uint8Array,
  server: Uint8Array,
  client: Uint8Array,
): Uint8Array {
  return new Transcript('vigil/cosigner/chain-code/v1')
    .appendBytes('session', sessionId)
    .appendBytes('server', server)
    .appendBytes('client', client)
    .challengeBytes('chain-code', 32);
}

function jointKey(a: Point, b: Point): Point {
  const q = a.add(b);
  if (q.is0()) throw malformed('the joint public key is the identity');
  return q;
}

export class ClientKeygen {
  #phase: 'new' | 'committed' | 'done' = 'new';
  readonly #sessionId: Uint8Array;
  readonly #setup: ClientSetup;
  readonly #policy: SecurityPolicy;
  readonly #rng: RandomBytes;
  #x = 0n;
  #q: Point | undefined;
  #proof: SchnorrProof | undefined;
  #chainCode: Uint8Array = new Uint8Array(32);
  #opening: Opening | undefined;

  constructor(opts: {
    sessionId: Uint8Array;
    setup: ClientSetup;
    rng: RandomBytes;
    policy?: SecurityPolicy;
  }) {
    this.#sessionId = opts.sessionId;
    this.#setup = opts.setup;
    this.#rng = opts.rng;
    this.#policy = opts.policy ?? DEFAULT_POLICY;
  }

  start(): KeygenMsg1 {
    if (this.#phase !== 'new') throw badState('client keygen already started');
    this.#phase = 'committed';
    this.#x = randomScalar(this.#rng, CURVE_ORDER);
    this.#q = G.multiply(this.#x);
    this.#proof = proveSchnorr(ctx(this.#sessionId, 'client', 'keygen/Q'), this.#x, this.#rng);
    this.#chainCode = randomBytesOf(this.#rng, 32);
    const c = commit(
      ctx(this.#sessionId, 'client', 'keygen/commit'),
      clientItems(this.#q, this.#proof, this.#chainCode),
      this.#rng,
    );
    this.#opening = c.opening;
    return {
      commitment: bytesToWire(c.commitment),
      ringPedersen: ringPedersenToWire(this.#setup.rp, this.#setup.proof),
    };
  }

  finish(msg2: unknown): { message: KeygenMsg3; share: ClientKeyShare } {
    if (this.#phase !== 'committed' || !this.#q || !this.#proof || !this.#opening) {
      throw badState('client keygen is not awaiting the server message');
    }
    this.#phase = 'done';
    const qServer = parsePoint('qServer', field(msg2, 'qServer'));
    verifySchnorr(
      ctx(this.#sessionId, 'server', 'keygen/Q'),
      qServer,
      parseSchnorr('proof', field(msg2, 'proof')),
    );
    const serverChain = parseBytes('chainCode', field(msg2, 'chainCode'), 32);
    const { paillierN, ckey } = verifyEncryptedShare(
      this.#sessionId,
      'keygen',
      field(msg2, 'share'),
      qServer,
      this.#setup.rp,
      this.#policy,
    );
    const share: ClientKeyShare = {
      xClient: this.#x,
      qClient: this.#q,
      qServer,
      q: jointKey(qServer, this.#q),
      chainCode: jointChainCode(this.#sessionId, serverChain, this.#chainCode),
      paillierN,
      ckey,
    };
    return {
      message: {
        qClient: pointToWire(this.#q),
        proof: schnorrToWire(this.#proof),
        chainCode: bytesToWire(this.#chainCode),
        nonce: bytesToWire(this.#opening.nonce),
      },
      share,
    };
  }
}

export class ServerKeygen {
  #phase: 'new' | 'responded' | 'done' = 'new';
  readonly #sessionId: Uint8Array;
  readonly #paillierSource: PaillierKeySource;
  #paillier: ProvenPaillierKey | undefined;
  readonly #policy: SecurityPolicy;
  readonly #rng: RandomBytes;
  readonly #ringPedersenVerified: (rp: RingPedersen) => boolean;
  #commitment: Uint8Array = new Uint8Array(0);
  #clientRp: RingPedersen | undefined;
  #x = 0n;
  #q: Point | undefined;
  #chainCode: Uint8Array = new Uint8Array(32);
  #ckey = 0n;

  constructor(opts: {
    sessionId: Uint8Array;
    /** The server's key, or a pool's take(), called only once message 1 has been accepted. */
    paillier: PaillierKeySource;
    rng: RandomBytes;
    policy?: SecurityPolicy;
    /** Lets the shell skip re-verifying a client's Πprm it has already verified (a cache). */
    ringPedersenVerified?: (rp: RingPedersen) => boolean;
  }) {
    this.#sessionId = opts.sessionId;
    this.#paillierSource = opts.paillier;
    this.#rng = opts.rng;
    this.#policy = opts.policy ?? DEFAULT_POLICY;
    this.#ringPedersenVerified = opts.ringPedersenVerified ?? (() => false);
  }

  respond(msg1: unknown): KeygenMsg2 {
    if (this.#phase !== 'new') throw badState('server keygen already responded');
    this.#phase = 'responded';
    ({ commitment: this.#commitment, ringPedersen: this.#clientRp } = acceptClientOpening(
      msg1,
      this.#policy,
      this.#ringPedersenVerified,
    ));
    this.#paillier = paillierFrom(this.#paillierSource);
    this.#x = randomScalar(this.#rng, CURVE_ORDER);
    this.#q = G.multiply(this.#x);
    const proof = proveSchnorr(ctx(this.#sessionId, 'server', 'keygen/Q'), this.#x, this.#rng);
    this.#chainCode = randomBytesOf(this.#rng, 32);
    const enc = proveEncryptedShare(
      this.#sessionId,
      'keygen',
      this.#x,
      this.#q,
      this.#paillier,
      this.#clientRp,
      this.#rng,
    );
    this.#ckey = enc.ckey;
    return {
      qServer: pointToWire(this.#q),
      proof: schnorrToWire(proof),
      chainCode: bytesToWire(this.#chainCode),
      share: enc.wire,
    };
  }

  finish(msg3: unknown): ServerKeyShare {
    if (this.#phase !== 'responded' || !this.#q || !this.#clientRp || !this.#paillier) {
      throw badState('server keygen is not awaiting the client opening');
    }
    this.#phase = 'done';
    const qClient = parsePoint('qClient', field(msg3, 'qClient'));
    const proof = parseSchnorr('proof', field(msg3, 'proof'));
    const clientChain = parseBytes('chainCode', field(msg3, 'chainCode'), 32);
    const nonce = parseBytes('nonce', field(msg3, 'nonce'), 32);
    verifyOpening(ctx(this.#sessionId, 'client', 'keygen/commit'), this.#commitment, {
      items: clientItems(qClient, proof, clientChain),
      nonce,
    });
    verifySchnorr(ctx(this.#sessionId, 'client', 'keygen/Q'), qClient, proof);
    return {
      xServer: this.#x,
      qServer: this.#q,
      qClient,
      q: jointKey(this.#q, qClient),
      chainCode: jointChainCode(this.#sessionId, this.#chainCode, clientChain),
      paillier: this.#paillier.sk,
      ckey: this.#ckey,
      clientRingPedersen: this.#clientRp,
    };
  }
}

/**
 * The client's first message of keygen and of refresh: its commitment to what it reveals later,
 * and its ring-Pedersen setup with the Πprm proof (verified unless the shell's cache has it).
 */
export function acceptClientOpening(
  msg1: unknown,
  policy: SecurityPolicy,
  alreadyVerified: (rp: RingPedersen) => boolean,
): { commitment: Uint8Array; ringPedersen: RingPedersen } {
  const commitment = parseBytes('commitment', field(msg1, 'commitment'), 32);
  const { rp, proof } = parseRingPedersen(field(msg1, 'ringPedersen'), policy.ringPedersenBits * 2);
  if (!alreadyVerified(rp)) verifyClientSetup(rp, proof, policy.ringPedersenBits);
  return { commitment, ringPedersen: rp };
}
