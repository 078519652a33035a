/**
 * The prover's native bucket passes for either group, or undefined when the addon is absent or
 * `enabled` is false (proveRange then runs the TypeScript reference). Both read the checkpoints
 * as their stored encodings.
 */
import { discriminantOf, type Form, nativeClassBucketSum } from '../class1024/index.ts';
import type { VdfGroup } from '../group.ts';
import { nativeAddon } from '../rsa2048/native.ts';
import { type EncodedCheckpointReader, nativeBucketSum } from '../rsa2048/native-pass.ts';
import type { BucketSum } from '../wesolowski/index.ts';

export function solverBucketSum<E>(
  group: VdfGroup<E>,
  enabled: boolean,
  challenge: bigint,
  k: number,
  read: EncodedCheckpointReader,
): BucketSum<E> | undefined {
  if (group.name !== 'class1024')
    return nativeBucketSum<E>(group.name, enabled, challenge, k, read);
  const addon = enabled ? nativeAddon() : undefined;
  if (addon === undefined) return undefined;
  // The group's input is a form of its discriminant: D = b² − 4ac.
  const D = discriminantOf(group.input as Form);
  return nativeClassBucketSum(addon, D, challenge, k, read) as unknown as BucketSum<E>;
}
