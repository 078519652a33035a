/**
 * The native class1024 bucket passes behind the same BucketSum interface as the TypeScript
 * reference (wesolowski/prove.ts): same plans in, same S_j out (reduced forms are unique, so
 * proofs are byte-identical). Checkpoints go in as their BQFC encodings, which the addon decodes
 * strictly once per sweep; every product stays in C++.
 */
import { bigintToMinimalBytes } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import { addonError, type NativeAddon } from '../rsa2048/native.ts';
import { type BucketSum, fuseFactor, type PassPlan } from '../wesolowski/index.ts';
import { FORM_BYTES } from './bqfc.ts';
import { partialBound } from './fast.ts';
import type { Form } from './form.ts';
import { formFromRecord } from './native.ts';

/**
 * Checkpoints per call into the addon: each costs a decoding and up to one NUCOMP per fused pass
 * (≈ 10 µs each), so a call stays within tens of milliseconds and a terminated worker stops soon.
 */
const BATCH_ELEMENTS = 64;
/** The addon's bound on passes per sweep. */
const MAX_FUSE = 4096;

/** Passes one sweep serves (the bucket budget is wesolowski/params.ts's). */
export function classFuseFactor(k: number): number {
  return Math.min(MAX_FUSE, fuseFactor('class1024', k));
}

/** Yields encoded checkpoints C_0, C_1, … (each chunk a whole number of 100-byte encodings). */
export type EncodedCheckpointReader = () => Iterable<Uint8Array>;

/** S_j for each plan (undefined: the identity), in one sweep over the checkpoints. */
export function nativeClassBucketSums(
  addon: NativeAddon,
  D: bigint,
  challenge: bigint,
  k: number,
  plans: readonly PassPlan[],
  read: EncodedCheckpointReader,
): (Form | undefined)[] {
  let outs: (Uint8Array | null)[];
  try {
    const prover = addon.classProver(
      bigintToMinimalBytes(-D),
      bigintToMinimalBytes(partialBound(D)),
      bigintToMinimalBytes(challenge),
      k,
      plans.map((p) => bigintToMinimalBytes(p.rem)),
      plans.map((p) => bigintToMinimalBytes(p.stepDown)),
      plans.map((p) => p.count),
    );
    let left = Math.max(0, ...plans.map((p) => p.count));
    for (const chunk of read()) {
      if (left <= 0) break;
      if (chunk.length % FORM_BYTES !== 0)
        throw new VdfError('VDF_MALFORMED', `checkpoint chunk of ${chunk.length} bytes`);
      const n = Math.min(left, chunk.length / FORM_BYTES);
      for (let at = 0; at < n; at += BATCH_ELEMENTS) {
        const end = Math.min(n, at + BATCH_ELEMENTS);
        addon.classProverFeed(prover, chunk.subarray(at * FORM_BYTES, end * FORM_BYTES));
      }
      left -= n;
    }
    outs = addon.classProverFinish(prover);
  } catch (err) {
    throw addonError(err, 'native class1024 prover pass', 'VDF_CHECKPOINT');
  }
  return outs.map((out) => (out === null ? undefined : formFromRecord(out, D)));
}

/** The solver's native bucket sum for a class1024 group of discriminant D. */
export function nativeClassBucketSum(
  addon: NativeAddon,
  D: bigint,
  challenge: bigint,
  k: number,
  read: EncodedCheckpointReader,
): BucketSum<Form> {
  return {
    fuse: classFuseFactor(k),
    run: (plans) => nativeClassBucketSums(addon, D, challenge, k, plans, read),
  };
}
