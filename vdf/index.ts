/** The VDF module's public face (docs/vdf.md). */

import { discriminantFromSeed } from './class1024/index.ts';
import type { GroupName } from './group.ts';
import { groupFor } from './groups.ts';
import { checkSeed } from './limits.ts';
import type { VdfProofRecord } from './proof-file.ts';
import { N as RSA2048_MODULUS } from './rsa2048/modulus.ts';
import { type SolveOptions, solve as solveWithCheckpoints } from './solver/solve.ts';

export { VdfError, type VdfErrorCode } from './errors.ts';
export type { GroupName, VdfGroup } from './group.ts';
export { GROUP_NAMES, isGroupName } from './groups.ts';
export { MAX_ITERATIONS, MAX_SEED_BYTES } from './limits.ts';
export {
  encodeProofFile,
  MAX_PROOF_FILE_BYTES,
  parseProofFile,
  type VdfProofRecord,
} from './proof-file.ts';
export type { SolveOptions, SolveProgress } from './solver/solve.ts';
export { type VerifyOutcome, verifyProof } from './verify.ts';

/** The challenge input x for a seed, encoded (256 bytes rsa2048, 100-byte BQFC class1024). */
export function deriveInput(group: GroupName, seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  const g = groupFor(group, seed);
  return g.encode(g.input);
}

/**
 * What a third-party solver needs besides the seed to check it computes the same challenge: the
 * class group's discriminant D (negative) for class1024, the RSA modulus N for rsa2048.
 */
export function groupParameter(group: GroupName, seed: Uint8Array): bigint {
  checkSeed(seed);
  return group === 'class1024' ? discriminantFromSeed(seed) : RSA2048_MODULUS;
}

/** y = x^(2^T) and its Wesolowski proof; resumable with `checkpointDir`, cancellable with `signal`. */
export async function solve(o: SolveOptions): Promise<VdfProofRecord> {
  const r = await solveWithCheckpoints(o);
  return {
    group: r.group,
    seed: r.seed,
    iterations: r.iterations,
    input: r.input,
    output: r.output,
    proof: r.proof,
  };
}
/** BigInt modular multiplications mod the RSA-2048 N, exported for the benchmark's comparison. */
export { mulMod as rsa2048MulMod, mulModBarrett as rsa2048MulModBarrett } from './rsa2048/arith.ts';
export { N as RSA2048_N } from './rsa2048/modulus.ts';
/** Whether the native addon (rsa2048 evaluation and prover pass) loaded here, and with IFMA. */
export {
  type NativeArithmetic,
  type NativeStatus,
  nativeStatus,
} from './rsa2048/native.ts';
export {
  BACKENDS,
  type Backend,
  backendsFor,
  calibrateIterations,
  DEFAULT_ATTACKER_RATE,
  fastestBackend,
  measureSquaringsPerSecond,
  parseDelaySeconds,
} from './speed.ts';
export { type ProofParams, proofParams } from './wesolowski/index.ts';
