/** The class1024 side of verifyProof: Chia's verifier handles π and the n-Wesolowski segments. */
import { class1024Group } from './class1024/group.ts';
import { verifyClass1024 } from './class1024/verify.ts';
import type { VdfProofRecord } from './proof-file.ts';

export function verifyClass1024Record(r: VdfProofRecord): void {
  const input = r.input ?? deriveClass1024Input(r.seed);
  verifyClass1024(r.seed, r.iterations, input, r.output, r.proof);
}

export function deriveClass1024Input(seed: Uint8Array): Uint8Array {
  const g = class1024Group(seed);
  return g.encode(g.input);
}
