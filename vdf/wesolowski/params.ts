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
 * Relative costs in µs (measured on the 2-core VM, CPU time); they shape the choice, not
 * correctness. Both groups are costed for the native addon (docs/vdf.md §8, §9), the product
 * path. rsa2048: its evaluation records a checkpoint for about two squarings' time, and a prover
 * step (digit and product) costs about 1.3 squarings; combining costs three products per bucket
 * (running product, total, the bucket's Montgomery correction), and its checkpoints need no
 * decoding. class1024 (2026-12-06, 2 vCPU AMD EPYC): a native squaring ≈ 6 µs, a checkpoint
 * ≈ 25 µs (reduction and BQFC encoding in C++, the store's append), a bucket product (NUCOMP,
 * reduced) ≈ 6.5 µs, two products per bucket when combining, and each sweep of the prover decodes
 * every checkpoint strictly (≈ 20 µs). Without the addon the same parameters hold, at a higher
 * cost per step.
 */
interface CostModel {
  square: number;
  /** Fixed cost of one evaluation step between checkpoints (recording, bookkeeping). */
  stepOverhead: number;
  mul: number;
  /** Products per bucket and pass when combining. */
  combine: number;
  /** Reading one checkpoint into a sweep of the prover. */
  decode: number;
}

/**
 * Bucket tables a native prover worker may hold at once, and one bucket's size, per group. Fusing
 * passes into one sweep over the checkpoints saves reading them again, but costs cache and
 * memory. rsa2048 (a residue: 40 limbs of 52 bits, or a BIGNUM of about that size): three fused
 * k = 15 passes (31 MiB per worker, past the 32 MiB L3 both workers share) ran 3–9 % slower than
 * three sweeps, so its tables stay within about three quarters of that L3. class1024 (a packed
 * reduced form, native/class_prover.h): every sweep decodes each checkpoint again (≈ 3
 * squarings) while a product costs about one, so its budget is wider.
 */
const FUSE_BUDGET: Record<GroupName, { bytes: number; bucketBytes: number }> = {
  rsa2048: { bytes: 12 * 2 ** 20, bucketBytes: 320 },
  class1024: { bytes: 48 * 2 ** 20, bucketBytes: 264 },
};

/** Passes one sweep of a native prover worker serves at k bits per digit. */
export function fuseFactor(group: GroupName, k: number): number {
  const { bytes, bucketBytes } = FUSE_BUDGET[group];
  return Math.max(1, Math.floor(bytes / (2 ** k * bucketBytes)));
}

const COSTS: Record<GroupName, CostModel> = {
  rsa2048: {
    square: 0.72,
    stepOverhead: 2,
    mul: 1,
    combine: 3,
    decode: 0,
  },
  class1024: {
    square: 6,
    stepOverhead: 25,
    mul: 6.5,
    combine: 2,
    decode: 20,
  },
};

/** The proof's passes run on two worker threads once the evaluation has freed its core. */
const PROOF_WORKERS = 2;
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

/**
 * The model's CPU µs of one worker's share of the proof (its passes dealt whole to `workers`
 * threads) and of the evaluation, T squarings with checkpoints every k·l.
 */
export function modelledCost(
  group: GroupName,
  iterations: number,
  { k, l }: ProofParams,
  workers = PROOF_WORKERS,
): { proof: number; evaluation: number } {
  const c = COSTS[group];
  const T = iterations;
  const checkpoints = Math.ceil(T / (k * l));
  // Whole passes go to the workers, so an odd l leaves one worker a pass behind.
  const perWorker = Math.ceil(l / workers);
  const sweeps = Math.ceil(perWorker / fuseFactor(group, k));
  return {
    proof:
      perWorker * (Math.ceil(T / k) / l + c.combine * 2 ** k) * c.mul +
      sweeps * checkpoints * c.decode,
    evaluation: T * c.square + checkpoints * c.stepOverhead,
  };
}

export function proofParams(group: GroupName, iterations: number): ProofParams {
  const c = COSTS[group];
  const T = iterations;
  const candidates: (ProofParams & { total: number; proof: number })[] = [];
  for (let k = 1; k <= MAX_BUCKET_BITS; k++) {
    const blocks = Math.ceil(T / k);
    const combine = c.combine * 2 ** k;
    const lMin = Math.max(1, Math.ceil(T / (k * MAX_CHECKPOINTS)));
    // Past the l minimising the total, both the total and the proof grow: no need to look.
    const lBalance = Math.sqrt((T * c.stepOverhead * PROOF_WORKERS) / (k * combine * c.mul));
    const lMax = Math.min(blocks, Math.max(lMin, Math.ceil(lBalance) + 1));
    for (let l = lMin, i = 0; l <= lMax; l = i < L_SCAN ? l + 1 : Math.ceil(l * 1.05), i++) {
      const { proof, evaluation } = modelledCost(group, T, { k, l, interval: k * l });
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
