/**
 * The VDF module's public face (docs/vdf.md): everything of the portable face (portable.ts), run
 * on Node's accelerators (OpenSSL, the native addon), and the solver.
 */

import { installNodeAccelerators } from './node-accelerators.ts';
import type { VdfProofRecord } from './proof-file.ts';
import { type SolveOptions, solve as solveWithCheckpoints } from './solver/solve.ts';

installNodeAccelerators();

export type { VdfGroup } from './group.ts';
export * from './portable.ts';
export type { SolveOptions, SolveProgress } from './solver/solve.ts';

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
