/**
 * One segment's Wesolowski proof from the stored checkpoints: on the given proof workers, or on
 * this thread. A depth-0 solve has one segment, the whole of T from x.
 */
import { VdfError } from '../errors.ts';
import type { VdfGroup } from '../group.ts';
import { checkpointCount, proveRange } from '../wesolowski/index.ts';
import { CACHE_DECODED_MAX, type CheckpointStore, readRange } from './checkpoints.ts';
import { solverBucketSum } from './native-sum.ts';
import type { SolvePlan } from './plan.ts';
import { type ProofWorkers, proveInWorkers } from './workers.ts';

/** One segment's proof to compute (the solver's, or a split's segment). */
export interface SegmentProofJob<E> {
  group: VdfGroup<E>;
  /** Native bucket passes and operations where the addon loads (SolveOptions.native). */
  native: boolean;
  plan: SolvePlan;
  /** Index into plan.segments. */
  segment: number;
  challenge: bigint;
  store: CheckpointStore;
  /** Called after every pass; may throw to cancel (the solver's abort check). */
  onPass: () => void;
}

export async function proveSegment<E>(
  job: SegmentProofJob<E>,
  workers: ProofWorkers | undefined,
): Promise<E> {
  const { group, plan, segment, challenge, store, onPass } = job;
  const { iterations, params, firstCheckpoint: first } = plan.segments[segment]!;
  const needed = checkpointCount(iterations, params);
  if (store.count < first + needed)
    throw new VdfError(
      'VDF_CHECKPOINT',
      `checkpoints incomplete: have ${store.count}, need ${first + needed}`,
    );
  if (workers) return proveInWorkers(job, workers);
  const useNative = job.native;
  // proveRange runs the TypeScript bucket pass over `read` when the native `sum` is undefined.
  const prove = (read: () => Iterable<E>, reader: () => Iterable<Uint8Array>) =>
    proveRange(
      group,
      iterations,
      challenge,
      params,
      0,
      params.l,
      read,
      onPass,
      solverBucketSum(group, useNative, challenge, params.k, reader),
    );
  if (needed <= CACHE_DECODED_MAX) {
    // The native pass reads the encodings; keep them in one buffer instead of decoding.
    const encoded = readRange(store, first, needed, group.elementBytes);
    let decoded: E[] | undefined;
    const read = () => {
      if (decoded === undefined) {
        decoded = [];
        for (let at = 0; at < encoded.length; at += group.elementBytes)
          decoded.push(group.decode(encoded.subarray(at, at + group.elementBytes)));
      }
      return decoded;
    };
    return prove(read, () => [encoded]);
  }
  const read = function* () {
    for (const bytes of store.read(first)) yield group.decode(bytes);
  };
  return prove(read, () => store.readChunks(first));
}
