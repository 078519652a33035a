/**
 * What every proof and commitment is bound to: the protocol session and the proving party, so a
 * proof from one session, role or purpose never verifies in another.
 */
import { Transcript } from '../transcript.ts';

export type PartyId = 'server' | 'client';

export interface ProofContext {
  /** Unique per protocol run, fixed by the caller (e.g. the server's session record). */
  readonly sessionId: Uint8Array;
  readonly prover: PartyId;
  /** What the proof is for inside the run, e.g. 'keygen/Q' or 'sign/R'. */
  readonly purpose: string;
}

export function proofTranscript(proof: string, ctx: ProofContext): Transcript {
  return new Transcript(`vigil/cosigner/${proof}/v1`)
    .appendBytes('session', ctx.sessionId)
    .appendString('prover', ctx.prover)
    .appendString('purpose', ctx.purpose);
}

/** Statistical and range parameters of the CGGMP proofs (ePrint 2021/060: ℓ = 256, ε = 2ℓ). */
export const ELL = 256n;
export const EPSILON = 512n;
/** Repetitions of the binary-challenge proofs (Πmod, Πprm): soundness error 2^-80. */
export const REPETITIONS = 80;
