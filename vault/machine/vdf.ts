import { verifyProof } from '../../vdf/index.ts';
import type { VdfGroupName } from '../protocol/index.ts';

/** The VDF verifier contract the machine relies on (vdf/index.ts `verifyProof`). */
export type VdfVerify = (
  input: {
    group: VdfGroupName;
    seed: Uint8Array;
    iterations: number;
    output: Uint8Array;
    proof: Uint8Array;
  },
  options: { maxIterations: number },
) => { valid: true } | { valid: false; kind: string; code: string; reason: string };

/** The real verifier: strict decoding, bounds, then the Wesolowski check (vdf/). */
export const verifyVdf: VdfVerify = (input, options) => verifyProof(input, options);
