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
 * Both groups are costed for the native addon (docs/vdf.md §8, §9), the product path. rsa2048:
 * its evaluation records a checkpoint for about two squarings' time, and a prover step (digit and
 * product) costs about 1.3 squarings. class1024: a native squaring ≈ 10 µs, a checkpoint ≈ 20
 * squarings (its BQFC encoding, in TypeScript), a prover multiplication ≈ 2 squarings (one
 * native NUCOMP per call). Left out: above 2^15 checkpoints the prover decodes each checkpoint
 * again in every pass (≈ 10 squarings, TypeScript BQFC). Without the addon the same parameters
 * hold, at a higher cost per step.
 */
interface CostModel {
  square: number;
  /** Fixed cost of one evaluation step between checkpoints (recording, bookkeeping). */
  stepOverhead: number;
  mul: number;
}

const COSTS: Record<GroupName, CostModel> = {
  rsa2048: { square: 0.72, stepOverhead: 2, mul: 1 },
  class1024: { square: 10, stepOverhead: 200, mul: 20 },
};

/** The proof's passes run on two worker threads once the evaluation has freed its core. */
const PROOF_WORKERS = 2;
/**
 * Products per bucket and pass when combining: the running product, the total, and the bucket's
 * Montgomery correction (native).
 */
const COMBINE_PRODUCTS = 3;
/**
 * From T = 10^8 on, the proof's share of the evaluation is bounded (≤ 5 %, the VDF issue): there
 * the parameters with the smallest proof among those whose modelled total time (evaluation +
 * proof) is within MAX_DETOUR of the fastest. Near 10^8 that costs a second or so of a
 * claimant's wait; at vault-scale T the fastest total already has the smallest share. Below
 * 10^8 the fastest total wins.
 */
const SHARE_BOUNDED_FROM = 1e8;
const MAX_DETOUR = 0.02;
/** Per k, l is scanned from its lower bound up to this many values (then geometrically). */
const L_SCAN = 512;

export function proofParams(group: GroupName, iterations: number): ProofParams {
  const c = COSTS[group];
  const T = iterations;
  const candidates: (ProofParams & { total: number; proof: number })[] = [];
  for (let k = 1; k <= MAX_BUCKET_BITS; k++) {
    const blocks = Math.ceil(T / k);
    const combine = COMBINE_PRODUCTS * 2 ** k;
    const lMin = Math.max(1, Math.ceil(T / (k * MAX_CHECKPOINTS)));
    // Past the l minimising the total, both the total and the proof grow: no need to look.
    const lBalance = Math.sqrt((T * c.stepOverhead * PROOF_WORKERS) / (k * combine * c.mul));
    const lMax = Math.min(blocks, Math.max(lMin, Math.ceil(lBalance) + 1));
    for (let l = lMin, i = 0; l <= lMax; l = i < L_SCAN ? l + 1 : Math.ceil(l * 1.05), i++) {
      // Whole passes go to the workers, so an odd l leaves one worker a pass behind.
      const proof = Math.ceil(l / PROOF_WORKERS) * (blocks / l + combine) * c.mul;
      const evaluation = T * c.square + Math.ceil(T / (k * l)) * c.stepOverhead;
      candidates.push({ k, l, interval: k * l, total: proof + evaluation, proof });
    }
  }
  const fastest = Math.min(...candidates.map((x) => x.total));
  const bound = fastest * (1 + (T >= SHARE_BOUNDED_FROM ? MAX_DETOUR : 0));
  const chosen = candidates
    .filter((x) => x.total <= bound)
    .reduce((a, b) => (b.proof < a.proof ? b : a));
  return { k: chosen.k, l: chosen.l, interval: chosen.interval };
}
