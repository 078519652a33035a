/**
 * Wesolowski's proof π = x^⌊2^T/ℓ⌋ from stored checkpoints C_i = x^(2^(k·l·i)) (§4.1, chiavdf's
 * GenerateWesolowski). Write q = ⌊2^T/ℓ⌋ = Σ b_m·2^(k·m) with k-bit digits
 * b_m = ⌊2^k·(2^(T−k(m+1)) mod ℓ)/ℓ⌋. For each j < l, bucket every C_i by b_(i·l+j), fold the
 * buckets into S_j = Π_i C_i^(b_(i·l+j)), and combine by Horner: π = Π_j S_j^(2^(k·j)).
 * Pure: the checkpoints arrive through a reader, so they may stream from disk.
 */
import type { VdfGroup } from '../group.ts';
import type { ProofParams } from './params.ts';
import { pow2Mod } from './verify.ts';

/** Yields the checkpoints C_0, C_1, … in order; may be called once per pass. */
export type CheckpointReader<E> = () => Iterable<E>;

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [a % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}

/** Number of checkpoints C_i with k·l·i < T (the ones the proof needs). */
export function checkpointCount(iterations: number, params: ProofParams): number {
  return Math.ceil(iterations / params.interval);
}

/**
 * Pass j's digit walk: it reads C_0 … C_(count−1), whose digits are ⌊2^k·rem_i/ℓ⌋ with
 * rem_0 = 2^(T − k(j+1)) mod ℓ and rem_(i+1) = rem_i·stepDown mod ℓ (stepping i up divides by
 * 2^(k·l)). A backend that computes S_j needs only this, k and the checkpoints.
 */
export interface PassPlan {
  count: number;
  rem: bigint;
  stepDown: bigint;
}

/** undefined when T − k(j+1) < 0: pass j has no digit and S_j is the identity. */
export function passPlan(
  iterations: number,
  challenge: bigint,
  params: ProofParams,
  j: number,
): PassPlan | undefined {
  const { k, l } = params;
  const first = iterations - k * (j + 1);
  if (first < 0) return undefined;
  return {
    count: Math.floor(first / (k * l)) + 1,
    rem: pow2Mod(first, challenge),
    stepDown: modInverse(pow2Mod(k * l, challenge), challenge),
  };
}

/**
 * S_j for several passes at once (undefined for the identity): the TypeScript reference or a
 * native backend. A backend that reads the checkpoints once for up to `fuse` passes saves a
 * sweep over them per extra pass; `fuse` is bounded by the buckets it can hold.
 */
export interface BucketSum<E> {
  fuse: number;
  run(plans: readonly PassPlan[]): (E | undefined)[];
}

/**
 * S_j = Π_i C_i^(b_(i·l+j)) for one j: buckets by digit, then Σ b·Y_b by running products
 * (2^(k+1) multiplications). The reference every other backend must match.
 */
export function bucketSum<E>(
  group: VdfGroup<E>,
  challenge: bigint,
  k: number,
  plan: PassPlan,
  read: CheckpointReader<E>,
): E | undefined {
  const buckets: (E | undefined)[] = new Array(2 ** k);
  let rem = plan.rem;
  let left = plan.count;
  const scale = 1n << BigInt(k);
  for (const c of read()) {
    if (left-- <= 0) break;
    const digit = Number((scale * rem) / challenge);
    if (digit !== 0) {
      const cur = buckets[digit];
      buckets[digit] = cur === undefined ? c : group.mul(cur, c);
    }
    rem = (rem * plan.stepDown) % challenge;
  }
  let running: E | undefined;
  let total: E | undefined;
  for (let b = buckets.length - 1; b >= 1; b--) {
    const y = buckets[b];
    if (y !== undefined) running = running === undefined ? y : group.mul(running, y);
    if (running !== undefined) total = total === undefined ? running : group.mul(total, running);
  }
  return total;
}

/**
 * H = Π_{j ∈ [from, to)} S_j^(2^(k·(j − from))): one worker's share. π = H_all for [0, l); shares
 * combine as H_[a,c) = H_[a,b) · H_[b,c)^(2^(k·(b − a))). `sum` replaces the TypeScript bucket
 * pass (e.g. the native rsa2048 one); `read` is then unused.
 */
export function proveRange<E>(
  group: VdfGroup<E>,
  iterations: number,
  challenge: bigint,
  params: ProofParams,
  from: number,
  to: number,
  read: CheckpointReader<E>,
  onPass?: () => void,
  sum: BucketSum<E> = {
    fuse: 1,
    run: (plans) => plans.map((plan) => bucketSum(group, challenge, params.k, plan, read)),
  },
): E {
  let acc = group.identity();
  for (let top = to - 1; top >= from; top -= sum.fuse) {
    const js: number[] = [];
    for (let j = top; j >= Math.max(from, top - sum.fuse + 1); j--) js.push(j);
    const plans = js.map((j) => passPlan(iterations, challenge, params, j));
    const present = plans.filter((x): x is PassPlan => x !== undefined);
    const sums = present.length > 0 ? sum.run(present) : [];
    let next = 0;
    for (const plan of plans) {
      acc = group.squareTimes(acc, params.k);
      const s = plan === undefined ? undefined : sums[next++];
      if (s !== undefined) acc = group.mul(acc, s);
      onPass?.();
    }
  }
  return acc;
}

export function combineRanges<E>(
  group: VdfGroup<E>,
  params: ProofParams,
  low: E,
  high: E,
  lowWidth: number,
): E {
  return group.mul(low, group.squareTimes(high, params.k * lowWidth));
}

export function prove<E>(
  group: VdfGroup<E>,
  iterations: number,
  challenge: bigint,
  params: ProofParams,
  read: CheckpointReader<E>,
): E {
  return proveRange(group, iterations, challenge, params, 0, params.l, read);
}
