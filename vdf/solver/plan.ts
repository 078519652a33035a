/**
 * The solve's proof segments (chiavdf's n-Wesolowski, depth ≤ 1 here). A long class1024 solve
 * splits at T1: once y1 = x^(2^T1) is known, the segment's proof over 0..T1 runs on the second
 * core while the evaluation goes on to y, so after the evaluation only the final segment's proof
 * (T − T1 squarings from y1) is left. A pure function of (group, T, split), so a checkpoint
 * directory and the proof workers derive the same plan.
 */
import { VdfError } from '../errors.ts';
import type { GroupName } from '../group.ts';
import {
  checkpointCount,
  modelledCost,
  type ProofParams,
  proofParams,
} from '../wesolowski/index.ts';
import type { CheckpointJob } from './checkpoints.ts';

export interface ProofSegment {
  /** Squarings before the segment's start element. */
  start: number;
  iterations: number;
  /** proofParams for the segment's length: checkpoints every interval from its start. */
  params: ProofParams;
  /** Store index of the segment's start element (its checkpoint C_0). */
  firstCheckpoint: number;
}

export interface SolvePlan {
  /** Where the first segment ends, or undefined for a depth-0 proof. */
  segmentAt: number | undefined;
  /** In evaluation order; the last one's proof is π, the others' are Chia segments. */
  segments: readonly ProofSegment[];
}

/**
 * From here on a class1024 solve with proof workers splits. The model (docs/vdf.md §9) puts the
 * depth-0 proof at 7.4 % of the evaluation at T = 2^22 (1.9 s after 25 s of squarings) and the
 * split's final segment at 1.6 % (0.4 s); below, the saving is under a second while every proof
 * costs the vault a second Wesolowski check.
 */
export const SEGMENT_MIN_ITERATIONS = 2 ** 22;
/**
 * The segment's proof, on one worker, must end before the evaluation does: its modelled time is
 * taken this many times over (measured at T = 10^8 a worker's CPU ran ≈ 1.3× the model).
 */
const SEGMENT_MARGIN = 1.5;

/** The split point T1 the rule above gives for a solve of T, or undefined (depth 0). */
export function autoSegmentAt(group: GroupName, iterations: number): number | undefined {
  if (group !== 'class1024' || iterations < SEGMENT_MIN_ITERATIONS) return undefined;
  return splitPoint(group, iterations);
}

/**
 * The largest T1 whose segment proof, on one worker, the model expects to end with the
 * evaluation of the rest, with the margin (also for benchmarks below the threshold).
 */
export function splitPoint(group: GroupName, iterations: number): number {
  // T1 = T / (1 + margin · s(T1)), s the one-worker share at T1; s moves slowly with T1, so a
  // few fixed-point steps settle it.
  let at = Math.floor(0.85 * iterations);
  for (let i = 0; i < 3; i++) {
    const one = modelledCost(group, at, proofParams(group, at), 1);
    at = Math.floor(iterations / (1 + (SEGMENT_MARGIN * one.proof) / one.evaluation));
  }
  return at;
}

/** Only class1024 proofs carry segments (rsa2048's verifier takes π alone). */
export function checkSegmentAt(group: GroupName, iterations: number, at: number): void {
  if (!Number.isSafeInteger(at) || at < 0 || at >= iterations)
    throw new VdfError('VDF_OUT_OF_RANGE', `segmentAt must be an integer in 0..${iterations - 1}`);
  if (at > 0 && group !== 'class1024')
    throw new VdfError('VDF_OUT_OF_RANGE', `${group} proofs have no segments`);
}

/** `segmentAt` 0 or undefined: one segment, today's depth-0 proof. */
export function solvePlan(group: GroupName, iterations: number, segmentAt?: number): SolvePlan {
  const at = segmentAt === 0 ? undefined : segmentAt;
  if (at !== undefined) checkSegmentAt(group, iterations, at);
  const bounds = at === undefined ? [0, iterations] : [0, at, iterations];
  const segments: ProofSegment[] = [];
  let firstCheckpoint = 0;
  for (let s = 0; s + 1 < bounds.length; s++) {
    const start = bounds[s]!;
    const length = bounds[s + 1]! - start;
    const params = proofParams(group, length);
    segments.push({ start, iterations: length, params, firstCheckpoint });
    firstCheckpoint += checkpointCount(length, params);
  }
  return { segmentAt: at, segments };
}

/** The checkpoint directory's identity for a plan: a split job is another job than its depth 0. */
export function checkpointJob(
  plan: SolvePlan,
  job: Omit<CheckpointJob, 'interval' | 'split'>,
): CheckpointJob {
  const [first, final] = plan.segments;
  return {
    ...job,
    interval: first!.params.interval,
    ...(plan.segmentAt !== undefined
      ? { split: { segmentAt: plan.segmentAt, finalInterval: final!.params.interval } }
      : {}),
  };
}

/** The segment holding store index `checkpoint`. */
export function segmentOf(plan: SolvePlan, checkpoint: number): number {
  let s = 0;
  while (s + 1 < plan.segments.length && plan.segments[s + 1]!.firstCheckpoint <= checkpoint) s++;
  return s;
}
