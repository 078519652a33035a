/**
 * The native rsa2048 bucket pass behind the same BucketSum interface as the TypeScript reference
 * (wesolowski/prove.ts): same plan in, same S_j out up to the group's ±1 (canonical() removes it),
 * so proofs are byte-identical. Checkpoints go in as their 256-byte encodings, batched.
 */
import { bigintToMinimalBytes, bytesToBigint } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName } from '../group.ts';
import { type BucketSum, type PassPlan, fuseFactor as passFuse } from '../wesolowski/index.ts';
import { canonical } from './group.ts';
import { ELEMENT_BYTES, N } from './modulus.ts';
import {
  addonError,
  type NativeAddon,
  type NativeArithmetic,
  nativeAddon,
  nativeArithmetic,
} from './native.ts';

/** Elements per call into the addon: 256 KiB copied per batch keeps the call overhead negligible. */
const BATCH_ELEMENTS = 1024;
const MODULUS_BYTES = bigintToMinimalBytes(N);

/** Yields encoded checkpoints C_0, C_1, … (each chunk a whole number of 256-byte elements). */
export type EncodedCheckpointReader = () => Iterable<Uint8Array>;

/** Passes one sweep serves (the bucket budget is wesolowski/params.ts's). */
export function fuseFactor(k: number): number {
  return passFuse('rsa2048', k);
}

/**
 * S_j for each plan, in one sweep over the checkpoints: every chunk read is fed to every pass
 * while it is in cache. Passes and their buckets live until the sweep ends.
 */
export function nativeRsaBucketSums(
  addon: NativeAddon,
  challenge: bigint,
  k: number,
  plans: readonly PassPlan[],
  read: EncodedCheckpointReader,
  arithmetic: NativeArithmetic = nativeArithmetic(),
): (bigint | undefined)[] {
  let outs: (Uint8Array | null)[];
  try {
    const passes = plans.map((plan) =>
      addon.createPass(
        MODULUS_BYTES,
        bigintToMinimalBytes(challenge),
        bigintToMinimalBytes(plan.rem),
        bigintToMinimalBytes(plan.stepDown),
        k,
        arithmetic,
      ),
    );
    const longest = Math.max(0, ...plans.map((p) => p.count));
    const batch = new Uint8Array(BATCH_ELEMENTS * ELEMENT_BYTES);
    let filled = 0;
    let fed = 0;
    // Elements [fed, fed + n) go to every pass that still wants them.
    const feed = (bytes: Uint8Array, n: number) => {
      plans.forEach((plan, i) => {
        const want = Math.min(n, plan.count - fed);
        if (want > 0) addon.feedPass(passes[i]!, bytes.subarray(0, want * ELEMENT_BYTES));
      });
      fed += n;
    };
    const flush = () => {
      if (filled > 0) feed(batch, filled);
      filled = 0;
    };
    for (const chunk of read()) {
      const left = longest - fed - filled;
      if (left <= 0) break;
      if (chunk.length % ELEMENT_BYTES !== 0)
        throw new VdfError('VDF_MALFORMED', `checkpoint chunk of ${chunk.length} bytes`);
      const n = Math.min(left, chunk.length / ELEMENT_BYTES);
      if (n === 1 && filled < BATCH_ELEMENTS) {
        batch.set(chunk.subarray(0, ELEMENT_BYTES), filled * ELEMENT_BYTES);
        if (++filled === BATCH_ELEMENTS) flush();
      } else {
        flush();
        feed(chunk, n);
      }
    }
    flush();
    outs = passes.map((pass) => addon.finishPass(pass));
  } catch (err) {
    throw addonError(err, 'native prover pass', 'VDF_CHECKPOINT');
  }
  return outs.map((out) => (out === null ? undefined : canonical(bytesToBigint(out))));
}

/** One pass: nativeRsaBucketSums of a single plan. */
export function nativeRsaBucketSum(
  addon: NativeAddon,
  challenge: bigint,
  k: number,
  plan: PassPlan,
  read: EncodedCheckpointReader,
  arithmetic: NativeArithmetic = nativeArithmetic(),
): bigint | undefined {
  return nativeRsaBucketSums(addon, challenge, k, [plan], read, arithmetic)[0];
}

/**
 * The solver's choice: the native pass for rsa2048 when the addon is built and `enabled`, else
 * undefined (proveRange then runs the TypeScript reference).
 */
export function nativeBucketSum<E>(
  group: GroupName,
  enabled: boolean,
  challenge: bigint,
  k: number,
  read: EncodedCheckpointReader,
): BucketSum<E> | undefined {
  if (!enabled || group !== 'rsa2048') return undefined;
  const addon = nativeAddon();
  if (addon === undefined) return undefined;
  return {
    fuse: fuseFactor(k),
    run: (plans) => nativeRsaBucketSums(addon, challenge, k, plans, read) as (E | undefined)[],
  };
}
