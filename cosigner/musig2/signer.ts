/**
 * MuSig2 (BIP-327) 2-of-2 through @scure/btc-signer's musig2 module, wrapped in a signer whose
 * secret nonce cannot be used twice: it lives in a private field, is generated fresh from the
 * injected randomness (never derived deterministically), is zeroed by the library when consumed,
 * and the signer refuses to be serialised. A structured clone of a signer has no private fields and
 * therefore no nonce, and nothing here can restore one: a crash means a new session, never a resumed
 * one. Keep signer objects in memory only.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import * as musig from '@scure/btc-signer/musig2.js';
import { bigIntToBytes } from '../bigint.ts';
import { derivePublic } from '../derive.ts';
import { badState, CosignerError, malformed, proofFailed } from '../errors.ts';
import { type RandomBytes, randomBytesOf } from '../random.ts';
import type { Point } from '../wire.ts';

/** BIP-328: the synthetic chain code for deriving children of a MuSig2 aggregate key. */
export const BIP328_CHAIN_CODE = new Uint8Array(
  Buffer.from('868087ca02a6f974c4598924c36b57762d32cb45717167e300622c7167e38965', 'hex'),
);

export interface MusigKeyPlan {
  /** The two individual 33-byte public keys, in the order both parties agreed. */
  readonly publicKeys: readonly Uint8Array[];
  /** Plain (BIP-32) tweaks from BIP-328 derivation, then an optional x-only (Taproot) tweak. */
  readonly tweaks: readonly Uint8Array[];
  readonly isXonly: readonly boolean[];
}

/** Aggregate key of the plan: the 32-byte x-only key a BIP-340 signature verifies under. */
export function aggregateXOnly(plan: MusigKeyPlan): Uint8Array {
  return musig.keyAggExport(
    musig.keyAggregate([...plan.publicKeys], [...plan.tweaks], [...plan.isXonly]),
  );
}

/** The untweaked aggregate point (BIP-328's parent key). */
export function aggregatePoint(publicKeys: readonly Uint8Array[]): Point {
  return musig.keyAggregate([...publicKeys]).aggPublicKey as Point;
}

/**
 * Key plan for a non-hardened BIP-328 child of the aggregate key, optionally with a final BIP-341
 * x-only tweak (e.g. the TapTweak hash).
 */
export function planFor(
  publicKeys: readonly Uint8Array[],
  path: readonly number[] = [],
  xOnlyTweak?: Uint8Array,
): MusigKeyPlan {
  if (publicKeys.length !== 2) throw malformed('MuSig2 here is 2-of-2: exactly two public keys');
  const d = derivePublic(aggregatePoint(publicKeys), BIP328_CHAIN_CODE, path);
  const tweaks = d.stepTweaks.map((t) => bigIntToBytes(t, 32));
  const isXonly = tweaks.map(() => false);
  if (xOnlyTweak) {
    tweaks.push(xOnlyTweak);
    isXonly.push(true);
  }
  return { publicKeys, tweaks, isXonly };
}

export class MusigSigner {
  #phase: 'new' | 'nonce' | 'signed' | 'done' = 'new';
  #secnonce: Uint8Array | undefined;
  readonly #secretKey: Uint8Array;
  readonly #plan: MusigKeyPlan;
  readonly #index: number;
  readonly #rng: RandomBytes;
  #pubNonces: Uint8Array[] = [];
  #session: musig.Session | undefined;
  #ownPartial: Uint8Array | undefined;
  #message: Uint8Array | undefined;

  constructor(opts: { secretKey: Uint8Array; plan: MusigKeyPlan; rng: RandomBytes }) {
    const pk = musig.IndividualPubkey(opts.secretKey);
    const index = opts.plan.publicKeys.findIndex((k) => Buffer.from(k).equals(Buffer.from(pk)));
    if (index < 0) throw malformed('the signer public key is not in the key plan');
    this.#secretKey = opts.secretKey;
    this.#plan = opts.plan;
    this.#index = index;
    this.#rng = opts.rng;
  }

  /** Round 1: a fresh public nonce. Callable once per signer object. */
  publicNonce(): Uint8Array {
    if (this.#phase !== 'new') throw badState('this MuSig2 signer already made its nonce');
    this.#phase = 'nonce';
    const pk = this.#plan.publicKeys[this.#index] as Uint8Array;
    const nonces = musig.nonceGen(
      pk,
      this.#secretKey,
      aggregateXOnly(this.#plan),
      undefined,
      undefined,
      randomBytesOf(this.#rng, 32),
    );
    this.#secnonce = nonces.secret;
    this.#pubNonces[this.#index] = nonces.public;
    return nonces.public;
  }

  /** Round 2: the partial signature on `message`, given the peer's public nonce. Consumes the nonce. */
  sign(peerNonce: Uint8Array, message: Uint8Array): Uint8Array {
    if (this.#phase !== 'nonce' || !this.#secnonce) {
      throw badState('this MuSig2 signer has no unused nonce (nonces are used exactly once)');
    }
    this.#phase = 'signed';
    const secnonce = this.#secnonce;
    this.#secnonce = undefined;
    try {
      this.#pubNonces[1 - this.#index] = peerNonce;
      const agg = musig.nonceAggregate(this.#pubNonces);
      this.#session = new musig.Session(
        agg,
        [...this.#plan.publicKeys],
        message,
        [...this.#plan.tweaks],
        [...this.#plan.isXonly],
      );
      this.#message = message;
      this.#ownPartial = this.#session.sign(secnonce, this.#secretKey);
      return this.#ownPartial;
    } catch (e) {
      throw e instanceof CosignerError
        ? e
        : malformed('the peer nonce or session inputs are invalid');
    } finally {
      secnonce.fill(0);
    }
  }

  /** Verifies the peer's partial signature, aggregates and checks the BIP-340 result. */
  finish(peerPartial: Uint8Array): Uint8Array {
    if (this.#phase !== 'signed' || !this.#session || !this.#ownPartial || !this.#message) {
      throw badState('this MuSig2 signer is not awaiting a partial signature');
    }
    this.#phase = 'done';
    const peer = 1 - this.#index;
    let ok = false;
    try {
      ok = this.#session.partialSigVerify(peerPartial, this.#pubNonces, peer);
    } catch {
      ok = false;
    }
    if (!ok) throw proofFailed('the peer partial signature does not verify');
    const partials =
      this.#index === 0 ? [this.#ownPartial, peerPartial] : [peerPartial, this.#ownPartial];
    const sig = this.#session.partialSigAgg(partials);
    if (!schnorr.verify(sig, this.#message, aggregateXOnly(this.#plan))) {
      throw proofFailed('the aggregate signature does not verify');
    }
    return sig;
  }

  toJSON(): never {
    throw new CosignerError(
      'COSIGNER_BAD_STATE',
      'a MuSig2 signer holds a secret nonce and is never serialised',
    );
  }
}
