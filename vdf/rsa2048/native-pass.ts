/**
 * The native rsa2048 bucket pass behind the same BucketSum interface as the TypeScript reference
 * (wesolowski/prove.ts): same plan in, same S_j out up to the group's ±1 (canonical() removes it),
 * so proofs are byte-identical. Checkpoints go in as their 256-byte encodings, batched.
 */
import { bigintToMinimalBytes, bytesToBigint } from '../bytes.ts';
import { VdfError } from '../errors.ts';
import type { GroupName } from '../group.ts';
import type { BucketSum, PassPlan } from '../wesolowski/index.ts';
import { canonical } from './group.ts';
import { ELEMENT_BYTES, N } from './modulus.ts';
import {
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

function nativeError(err: unknown): VdfError {
  const message = err instanceof Error ? err.message : String(err);
  const code =
    (err as { code?: unknown } | null)?.code === 'VDF_MALFORMED'
      ? 'VDF_MALFORMED'
      : 'VDF_CHECKPOINT';
  return new VdfError(code, `native prover pass: ${message}`);
}

export function nativeRsaBucketSum(
  addon: NativeAddon,
  challenge: bigint,
  k: number,
  plan: PassPlan,
  read: EncodedCheckpointReader,
  arithmetic: NativeArithmetic = nativeArithmetic(),
): bigint | undefined {
  let out: Uint8Array | null;
  try {
    const pass = addon.createPass(
      MODULUS_BYTES,
      bigintToMinimalBytes(challenge),
      bigintToMinimalBytes(plan.rem),
      bigintToMinimalBytes(plan.stepDown),
      k,
      arithmetic,
    );
    const batch = new Uint8Array(BATCH_ELEMENTS * ELEMENT_BYTES);
    let filled = 0;
    let left = plan.count;
    const flush = () => {
      if (filled > 0) addon.feedPass(pass, batch.subarray(0, filled * ELEMENT_BYTES));
      filled = 0;
    };
    for (const chunk of read()) {
      if (left <= 0) break;
      if (chunk.length % ELEMENT_BYTES !== 0)
        throw new VdfError('VDF_MALFORMED', `checkpoint chunk of ${chunk.length} bytes`);
      const n = Math.min(left, chunk.length / ELEMENT_BYTES);
      left -= n;
      if (n === 1 && filled < BATCH_ELEMENTS) {
        batch.set(chunk.subarray(0, ELEMENT_BYTES), filled * ELEMENT_BYTES);
        if (++filled === BATCH_ELEMENTS) flush();
      } else {
        flush();
        addon.feedPass(pass, chunk.subarray(0, n * ELEMENT_BYTES));
      }
    }
    flush();
    out = addon.finishPass(pass);
  } catch (err) {
    throw err instanceof VdfError ? err : nativeError(err);
  }
  return out === null ? undefined : canonical(bytesToBigint(out));
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
  return ((plan: PassPlan) => nativeRsaBucketSum(addon, challenge, k, plan, read)) as BucketSum<E>;
}
