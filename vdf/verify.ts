/** verifyProof: bounds and strict decoding first, then the proof; says why a record fails. */

import { verifyClass1024Record } from './class1024-bridge.ts';
import { VdfError, type VdfErrorCode } from './errors.ts';
import { groupFor, isGroupName } from './groups.ts';
import { checkIterations, checkSeed, MAX_ITERATIONS } from './limits.ts';
import { checkElementLength, checkProofLength, type VdfProofRecord } from './proof-file.ts';
import { verifyWesolowski } from './wesolowski/index.ts';

export type VerifyOutcome =
  | { valid: true }
  | { valid: false; kind: 'malformed' | 'invalid'; code: VdfErrorCode; reason: string };

export function verifyOrThrow(r: VdfProofRecord, limits: { maxIterations?: number } = {}): void {
  if (!isGroupName(r.group)) throw new VdfError('VDF_UNKNOWN_GROUP', 'unknown VDF group');
  checkIterations(r.iterations);
  const cap = Math.min(limits.maxIterations ?? MAX_ITERATIONS, MAX_ITERATIONS);
  if (r.iterations > cap)
    throw new VdfError('VDF_OUT_OF_RANGE', `iterations above the limit of ${cap}`);
  checkSeed(r.seed);
  checkElementLength(r.group, 'output', r.output);
  checkProofLength(r.group, r.proof);
  if (r.input) checkElementLength(r.group, 'input', r.input);
  if (r.group === 'class1024') {
    verifyClass1024Record(r);
    return;
  }
  const group = groupFor(r.group, r.seed);
  // rsa2048's seed only names x, so a record carrying another input states a different challenge.
  if (r.input && !group.equal(group.decode(r.input), group.input))
    throw new VdfError('VDF_INVALID_PROOF', 'rsa2048: input is not the one derived from the seed');
  const x = group.input;
  const y = group.decode(r.output);
  const proof = group.decode(r.proof);
  verifyWesolowski(group, r.iterations, x, y, proof);
}

export function verifyProof(
  r: VdfProofRecord,
  limits: { maxIterations?: number } = {},
): VerifyOutcome {
  try {
    verifyOrThrow(r, limits);
    return { valid: true };
  } catch (err) {
    if (!(err instanceof VdfError)) throw err;
    return {
      valid: false,
      kind: err.code === 'VDF_INVALID_PROOF' ? 'invalid' : 'malformed',
      code: err.code,
      reason: err.message,
    };
  }
}
