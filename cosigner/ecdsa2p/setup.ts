/**
 * Proof material that is about a modulus alone, so it is made once and off the request path:
 * the server's Paillier key with Πmod (key pool), the client's ring-Pedersen parameters with Πprm
 * (once per device).
 */
import { bytesToBigInt } from '../bigint.ts';
import type { PaillierSecretKey } from '../paillier.ts';
import type { RandomBytes } from '../random.ts';
import { Transcript } from '../transcript.ts';
import type { ProofContext } from '../zk/context.ts';
import { proveModulus } from '../zk/modulus.ts';
import {
  proveRingPedersen,
  type RingPedersen,
  type RingPedersenSecret,
  verifyRingPedersen,
} from '../zk/ring-pedersen.ts';
import type { ClientSetup, ProvenPaillierKey } from './types.ts';

export const SERVER_PAILLIER_OWNER = 'vigil/cosigner/server-paillier';

export function provePaillierKey(sk: PaillierSecretKey, rng: RandomBytes): ProvenPaillierKey {
  return { sk, modulusProof: proveModulus(sk, SERVER_PAILLIER_OWNER, rng) };
}

function setupContext(rp: RingPedersen): ProofContext {
  const digest = new Transcript('vigil/cosigner/ring-pedersen-setup/v1')
    .appendInts('params', [rp.nHat, rp.s, rp.t])
    .challengeBytes('id', 32);
  return { sessionId: digest, prover: 'client', purpose: 'ring-pedersen-setup' };
}

export function makeClientSetup(rp: RingPedersenSecret, rng: RandomBytes): ClientSetup {
  return { rp, proof: proveRingPedersen(setupContext(rp), rp, rng) };
}

export function verifyClientSetup(
  rp: RingPedersen,
  proof: ClientSetup['proof'],
  minBits: number,
): void {
  verifyRingPedersen(setupContext(rp), rp, proof, minBits);
}

/** A short stable identifier of a client's parameters, for a verification cache in the shell. */
export function ringPedersenId(rp: RingPedersen): string {
  return bytesToBigInt(setupContext(rp).sessionId).toString(16);
}
