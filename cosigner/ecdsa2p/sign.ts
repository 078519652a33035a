/**
 * Two-party signing in three messages (ZenGo's order: the client commits first, so the server
 * reveals R1 before seeing R2, and the client reveals R2 together with its last message):
 *   1. client → server  commit(R2, π2)
 *   2. server → client  R1, π1
 *   3. client → server  R2, π2, opening nonce, c3 = Enc(ρ·q + k2⁻¹(m + r·x_client)) ⊕ (k2⁻¹·r) ⊙ ckey
 * The server decrypts c3, computes s = k1⁻¹·Dec(c3) mod q, normalises to low s, and verifies the
 * signature. A signature that fails to verify locks the key for good: with retries a malicious
 * client learns one bit of x_server per failure (CVE-2023-33242, Fireblocks' "BitForge").
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToBigInt, gcd, modInverse } from '../bigint.ts';
import { derivePublic } from '../derive.ts';
import { badState, CosignerError, invalidElement, malformed } from '../errors.ts';
import {
  addCiphertexts,
  assertCiphertext,
  decrypt,
  encrypt,
  multiplyCiphertext,
  paillierPublicKey,
} from '../paillier.ts';
import { type RandomBytes, randomBelow, randomScalar } from '../random.ts';
import {
  bytesToWire,
  CURVE_ORDER,
  field,
  G,
  intToWire,
  type Point,
  parseBytes,
  parsePoint,
  parseWireInt,
  pointToWire,
  scalarMod,
  scalarToWire,
} from '../wire.ts';
import { commit, type Opening, verifyOpening } from '../zk/commitment.ts';
import { ELL, EPSILON, type PartyId, type ProofContext } from '../zk/context.ts';
import {
  parseSchnorr,
  proveSchnorr,
  type SchnorrProof,
  type SchnorrProofWire,
  schnorrToWire,
  verifySchnorr,
} from '../zk/schnorr.ts';
import { type EncryptionMaskPool, encryptWithMask } from './mask-pool.ts';
import type { ClientKeyShare, EcdsaSignature, KeyLock, ServerKeyShare } from './types.ts';

export interface SignMsg1 {
  commitment: string;
}

export interface SignMsg2 {
  r1: string;
  proof: SchnorrProofWire;
}

export interface SignMsg3 {
  r2: string;
  proof: SchnorrProofWire;
  nonce: string;
  c3: string;
}

const ctx = (sessionId: Uint8Array, prover: PartyId, purpose: string): ProofContext => ({
  sessionId,
  prover,
  purpose,
});

/** What the client commits to in message 1 (exported for the attack tests). */
export function items(r: Point, proof: SchnorrProof): Uint8Array[] {
  return [r.toBytes(true), proof.a.toBytes(true), Buffer.from(scalarToWire(proof.z), 'hex')];
}

function messageScalar(hash: Uint8Array): bigint {
  if (hash.length !== 32) throw malformed('the message hash must be 32 bytes');
  return scalarMod(bytesToBigInt(hash));
}

/** |Dec(ckey)| ≤ 2^(ℓ+ε) is what Πlog* proved; ρ ≥ that bound keeps c3's plaintext positive. */
const PLAINTEXT_BOUND = 1n << (ELL + EPSILON);
/** ρ's spread: 2^(ℓ+ε+256+80) drowns a + b·x_server (< 2^512) with 2^-80 statistical distance. */
const RHO_SPREAD = 1n << (ELL + EPSILON + 256n + 80n);

export class ClientSigner {
  #phase: 'new' | 'committed' | 'done' = 'new';
  readonly #sessionId: Uint8Array;
  readonly #share: ClientKeyShare;
  readonly #m: bigint;
  readonly #tweak: bigint;
  readonly #rng: RandomBytes;
  readonly #masks: EncryptionMaskPool | undefined;
  /** The (derived) public key the signature will verify under. */
  readonly publicKey: Point;
  #k2 = 0n;
  #r2: Point | undefined;
  #proof: SchnorrProof | undefined;
  #opening: Opening | undefined;

  constructor(opts: {
    sessionId: Uint8Array;
    share: ClientKeyShare;
    messageHash: Uint8Array;
    path?: readonly number[];
    rng: RandomBytes;
    /** Precomputed encryption masks for this share's Paillier key (each used once). */
    masks?: EncryptionMaskPool;
  }) {
    if (opts.masks && opts.masks.paillierN !== opts.share.paillierN) {
      throw badState('the mask pool belongs to another Paillier key');
    }
    this.#masks = opts.masks;
    this.#sessionId = opts.sessionId;
    this.#share = opts.share;
    this.#m = messageScalar(opts.messageHash);
    const d = derivePublic(opts.share.q, opts.share.chainCode, opts.path ?? []);
    this.#tweak = d.tweak;
    this.publicKey = d.publicKey;
    this.#rng = opts.rng;
  }

  start(): SignMsg1 {
    if (this.#phase !== 'new') throw badState('client signing already started');
    this.#phase = 'committed';
    this.#k2 = randomScalar(this.#rng, CURVE_ORDER);
    this.#r2 = G.multiply(this.#k2);
    this.#proof = proveSchnorr(ctx(this.#sessionId, 'client', 'sign/R'), this.#k2, this.#rng);
    const c = commit(
      ctx(this.#sessionId, 'client', 'sign/commit'),
      items(this.#r2, this.#proof),
      this.#rng,
    );
    this.#opening = c.opening;
    return { commitment: bytesToWire(c.commitment) };
  }

  finish(msg2: unknown): SignMsg3 {
    if (this.#phase !== 'committed' || !this.#r2 || !this.#proof || !this.#opening) {
      throw badState('client signing is not awaiting R1');
    }
    this.#phase = 'done';
    const r1 = parsePoint('r1', field(msg2, 'r1'));
    verifySchnorr(
      ctx(this.#sessionId, 'server', 'sign/R'),
      r1,
      parseSchnorr('proof', field(msg2, 'proof')),
    );
    const R = r1.multiply(this.#k2);
    const r = scalarMod(R.x);
    if (r === 0n) throw invalidElement('the joint nonce has r = 0');
    const pk = paillierPublicKey(this.#share.paillierN);
    const k2inv = modInverse(this.#k2, CURVE_ORDER);
    const xClient = scalarMod(this.#share.xClient + this.#tweak);
    const a = scalarMod(k2inv * (this.#m + r * xClient));
    const b = scalarMod(k2inv * r);
    const rho = PLAINTEXT_BOUND + randomBelow(this.#rng, RHO_SPREAD);
    const masked = this.#masks
      ? encryptWithMask(pk, rho * CURVE_ORDER + a, this.#masks.take())
      : encrypt(pk, rho * CURVE_ORDER + a, this.#rng).c;
    const c3 = addCiphertexts(pk, masked, multiplyCiphertext(pk, this.#share.ckey, b));
    this.#k2 = 0n;
    return {
      r2: pointToWire(this.#r2),
      proof: schnorrToWire(this.#proof),
      nonce: bytesToWire(this.#opening.nonce),
      c3: intToWire(c3),
    };
  }
}

export class ServerSigner {
  #phase: 'new' | 'responded' | 'done' = 'new';
  readonly #sessionId: Uint8Array;
  readonly #share: ServerKeyShare;
  readonly #lock: KeyLock;
  readonly #messageHash: Uint8Array;
  readonly #rng: RandomBytes;
  readonly publicKey: Point;
  #commitment: Uint8Array = new Uint8Array(0);
  #k1 = 0n;
  #r1: Point | undefined;

  constructor(opts: {
    sessionId: Uint8Array;
    share: ServerKeyShare;
    /** Shared by every session on this key; the shell persists it before answering. */
    lock: KeyLock;
    messageHash: Uint8Array;
    path?: readonly number[];
    rng: RandomBytes;
  }) {
    assertUnlocked(opts.lock);
    this.#sessionId = opts.sessionId;
    this.#share = opts.share;
    this.#lock = opts.lock;
    this.#messageHash = opts.messageHash;
    messageScalar(opts.messageHash); // validates the length
    this.publicKey = derivePublic(opts.share.q, opts.share.chainCode, opts.path ?? []).publicKey;
    this.#rng = opts.rng;
  }

  respond(msg1: unknown): SignMsg2 {
    if (this.#phase !== 'new') throw badState('server signing already responded');
    assertUnlocked(this.#lock);
    this.#phase = 'responded';
    this.#commitment = parseBytes('commitment', field(msg1, 'commitment'), 32);
    this.#k1 = randomScalar(this.#rng, CURVE_ORDER);
    this.#r1 = G.multiply(this.#k1);
    const proof = proveSchnorr(ctx(this.#sessionId, 'server', 'sign/R'), this.#k1, this.#rng);
    return { r1: pointToWire(this.#r1), proof: schnorrToWire(proof) };
  }

  /**
   * Returns a verified low-s signature, or throws. A failure after decryption locks the key (the
   * lock object is flipped before the error is thrown; the caller must persist it).
   */
  finish(msg3: unknown): EcdsaSignature {
    if (this.#phase !== 'responded' || !this.#r1)
      throw badState('server signing is not awaiting c3');
    this.#phase = 'done';
    // Checked again here: a parallel session on the same key may have locked it meanwhile.
    assertUnlocked(this.#lock);
    const k1 = this.#k1;
    this.#k1 = 0n;
    const r2 = parsePoint('r2', field(msg3, 'r2'));
    const proof = parseSchnorr('proof', field(msg3, 'proof'));
    const nonce = parseBytes('nonce', field(msg3, 'nonce'), 32);
    verifyOpening(ctx(this.#sessionId, 'client', 'sign/commit'), this.#commitment, {
      items: items(r2, proof),
      nonce,
    });
    verifySchnorr(ctx(this.#sessionId, 'client', 'sign/R'), r2, proof);
    const pk = this.#share.paillier;
    const c3 = parseWireInt('c3', field(msg3, 'c3'), pk.n2.toString(2).length);
    assertCiphertext(pk, c3, 'c3');
    const R = r2.multiply(k1);
    const r = scalarMod(R.x);
    if (r === 0n) throw invalidElement('the joint nonce has r = 0');
    // From here on the outcome depends on x_server: any failure is terminal for the key.
    try {
      const plain = decrypt(pk, c3);
      let s = scalarMod(modInverse(k1, CURVE_ORDER) * plain);
      if (s === 0n || gcd(s, CURVE_ORDER) !== 1n) throw new Error('s is zero');
      let recovery: 0 | 1 = R.y % 2n === 0n ? 0 : 1;
      if (s > CURVE_ORDER >> 1n) {
        s = CURVE_ORDER - s;
        recovery = recovery === 0 ? 1 : 0;
      }
      const sig = new secp256k1.Signature(r, s);
      const ok = secp256k1.verify(
        sig.toBytes('compact'),
        this.#messageHash,
        this.publicKey.toBytes(true),
        {
          prehash: false,
          lowS: true,
        },
      );
      if (!ok) throw new Error('signature does not verify');
      return { r, s, recovery };
    } catch {
      this.#lock.locked = true;
      throw new CosignerError(
        'COSIGNER_SIGNATURE_FAILED',
        'the completed signature did not verify; this key is now locked for good',
      );
    }
  }
}

function assertUnlocked(lock: KeyLock): void {
  if (lock.locked) {
    throw new CosignerError('COSIGNER_KEY_LOCKED', 'this key is locked after a failed signature');
  }
}

export function signatureToCompact(sig: EcdsaSignature): Uint8Array {
  return new secp256k1.Signature(sig.r, sig.s).toBytes('compact');
}

export function signatureFromWire(value: unknown): EcdsaSignature {
  const r = parseWireInt('r', field(value, 'r'), 256);
  const s = parseWireInt('s', field(value, 's'), 256);
  const recovery = field(value, 'recovery');
  if (recovery !== 0 && recovery !== 1) throw malformed('recovery must be 0 or 1');
  return { r, s, recovery };
}

export function signatureToWire(sig: EcdsaSignature): { r: string; s: string; recovery: 0 | 1 } {
  return { r: intToWire(sig.r), s: intToWire(sig.s), recovery: sig.recovery };
}
