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

/** Relative costs in µs (measured on the 2-core VM); they shape the choice, not correctness. */
interface CostModel {
  square: number;
  /** Fixed cost of one evaluation step between checkpoints (OpenSSL call, bookkeeping). */
  stepOverhead: number;
  mul: number;
}

const COSTS: Record<GroupName, CostModel> = {
  rsa2048: { square: 0.8, stepOverhead: 15, mul: 5 },
  class1024: { square: 60, stepOverhead: 1, mul: 120 },
};

export function proofParams(group: GroupName, iterations: number): ProofParams {
  const c = COSTS[group];
  const T = iterations;
  let best: ProofParams & { cost: number } = {
    k: 1,
    l: 1,
    interval: 1,
    cost: Number.POSITIVE_INFINITY,
  };
  for (let k = 1; k <= MAX_BUCKET_BITS; k++) {
    const blocks = Math.ceil(T / k);
    const lMin = Math.max(1, Math.ceil(T / (k * MAX_CHECKPOINTS)));
    const lBalance = Math.round(Math.sqrt((T * c.stepOverhead) / (k * 2 ** (k + 1) * c.mul)));
    for (const l of new Set([lMin, Math.max(lMin, Math.min(lBalance, blocks))])) {
      const steps = Math.ceil(T / (k * l));
      const cost = blocks * c.mul + l * 2 ** (k + 1) * c.mul + steps * c.stepOverhead;
      if (cost < best.cost) best = { k, l, interval: k * l, cost };
    }
  }
  return { k: best.k, l: best.l, interval: best.interval };
}
