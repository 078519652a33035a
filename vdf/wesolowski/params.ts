/**
 * Prover parameters (Wesolowski §4.1 as in chiavdf's ProveSlow): the evaluation stores
 * checkpoints x^(2^(k·l·i)); the proof then costs ⌈T/k⌉ group multiplications plus l·2^(k+1) for
 * the bucket sums and l·k squarings, with 2^k bucket elements in memory per worker. Parameters are
 * a pure function of (group, T) so that a resumed run finds the same checkpoint spacing.
 */
import type { GroupName } from '../group.ts';

export interface ProofParams {
  /** Bits per block: 2^k buckets. */
  k: number;
  /** Blocks per checkpoint interval. */
  l: number;
  /** Checkpoint spacing in squarings: k·l. */
  interval: number;
}

/** 2^16 buckets ≈ 20 MB of 2048-bit BigInts per worker; two workers stay well under 128 MB. */
export const MAX_BUCKET_BITS = 16;
/** At most 2^22 checkpoints: 1 GiB of rsa2048 elements on disk at T = 10^12. */
export const MAX_CHECKPOINTS = 2 ** 22;

/**
 * Relative costs in µs (measured on the 2-core VM); they shape the choice, not correctness.
 * rsa2048 is costed for the native addon (docs/vdf.md §8), the product path: its evaluation
 * records a checkpoint for about two squarings' time, and a prover step (digit and product) costs
 * about 1.3 squarings. Without the addon the same parameters hold, at a higher cost per step.
 */
interface CostModel {
  square: number;
  /** Fixed cost of one evaluation step between checkpoints (recording, bookkeeping). */
  stepOverhead: number;
  mul: number;
}

const COSTS: Record<GroupName, CostModel> = {
  rsa2048: { square: 0.72, stepOverhead: 2, mul: 0.9 },
  class1024: { square: 60, stepOverhead: 1, mul: 120 },
};

/** The proof's passes run on two worker threads once the evaluation has freed its core. */
const PROOF_WORKERS = 2;
/**
 * Products per bucket and pass when combining: the running product, the total, and the bucket's
 * Montgomery correction (native).
 */
const COMBINE_PRODUCTS = 3;
/**
 * The modelled proof is held to this share of the squarings' time where that costs the claimant
 * at most MAX_DETOUR of total time (the target is 5 % measured; the margin covers what the model
 * leaves out: disk reads, worker hand-offs). Otherwise the fastest total wins.
 */
const PROOF_SHARE = 0.048;
const MAX_DETOUR = 0.01;

export function proofParams(group: GroupName, iterations: number): ProofParams {
  const c = COSTS[group];
  const T = iterations;
  type Candidate = ProofParams & { total: number; share: number };
  let best: Candidate | undefined;
  let bestWithin: Candidate | undefined;
  for (let k = 1; k <= MAX_BUCKET_BITS; k++) {
    const blocks = Math.ceil(T / k);
    const combine = COMBINE_PRODUCTS * 2 ** k;
    const lMin = Math.max(1, Math.ceil(T / (k * MAX_CHECKPOINTS)));
    const clamp = (l: number) => Math.max(lMin, Math.min(Math.floor(l), blocks));
    // The l minimising the total, and the largest l whose proof stays within the share.
    const lBalance = Math.sqrt((T * c.stepOverhead * PROOF_WORKERS) / (k * combine * c.mul));
    const lWithin =
      ((PROOF_SHARE * T * c.square * PROOF_WORKERS) / c.mul - blocks) / Math.max(1, combine);
    for (const l of new Set([lMin, clamp(lBalance), clamp(lBalance) + 1, clamp(lWithin)])) {
      if (l < lMin || l > blocks) continue;
      const proof = ((blocks + l * combine) * c.mul) / PROOF_WORKERS;
      const evaluation = T * c.square + Math.ceil(T / (k * l)) * c.stepOverhead;
      const candidate = {
        k,
        l,
        interval: k * l,
        total: proof + evaluation,
        share: proof / evaluation,
      };
      if (!best || candidate.total < best.total) best = candidate;
      if (candidate.share <= PROOF_SHARE && (!bestWithin || candidate.total < bestWithin.total))
        bestWithin = candidate;
    }
  }
  const chosen =
    bestWithin && bestWithin.total <= best!.total * (1 + MAX_DETOUR) ? bestWithin : best!;
  return { k: chosen.k, l: chosen.l, interval: chosen.interval };
}
