/** Schnorr proof of knowledge of a discrete log on secp256k1, bound to a ProofContext. */
import { CosignerError, proofFailed } from '../errors.ts';
import { type RandomBytes, randomScalar } from '../random.ts';
import {
  CURVE_ORDER,
  field,
  G,
  type Point,
  parsePoint,
  parseScalar,
  pointToWire,
  scalarMod,
  scalarToWire,
} from '../wire.ts';
import { type ProofContext, proofTranscript } from './context.ts';

export interface SchnorrProof {
  readonly a: Point;
  readonly z: bigint;
}

export interface SchnorrProofWire {
  a: string;
  z: string;
}

function challenge(ctx: ProofContext, x: Point, a: Point): bigint {
  return proofTranscript('schnorr', ctx)
    .appendBytes('X', x.toBytes(true))
    .appendBytes('A', a.toBytes(true))
    .challengeBelow('e', CURVE_ORDER);
}

export function proveSchnorr(ctx: ProofContext, secret: bigint, rng: RandomBytes): SchnorrProof {
  const x = G.multiply(secret);
  const k = randomScalar(rng, CURVE_ORDER);
  const a = G.multiply(k);
  const e = challenge(ctx, x, a);
  return { a, z: scalarMod(k + e * secret) };
}

export function verifySchnorr(ctx: ProofContext, x: Point, proof: SchnorrProof): void {
  const e = challenge(ctx, x, proof.a);
  // Public values only, so the variable-time multiplication (which also accepts zero) is fine.
  const lhs = G.multiplyUnsafe(proof.z);
  const rhs = proof.a.add(x.multiplyUnsafe(e));
  if (!lhs.equals(rhs)) throw proofFailed(`Schnorr proof for ${ctx.purpose} does not verify`);
}

export function schnorrToWire(p: SchnorrProof): SchnorrProofWire {
  return { a: pointToWire(p.a), z: scalarToWire(p.z) };
}

export function parseSchnorr(name: string, value: unknown): SchnorrProof {
  try {
    return {
      a: parsePoint(`${name}.a`, field(value, 'a')),
      z: parseScalar(`${name}.z`, field(value, 'z'), true),
    };
  } catch (e) {
    if (e instanceof CosignerError) throw e;
    throw proofFailed(`${name} is malformed`);
  }
}
