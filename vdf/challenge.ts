/** What a challenge is besides its seed: the input x, and the group's parameter (D or N). */
import { discriminantFromSeed } from './class1024/discriminant.ts';
import type { GroupName } from './group.ts';
import { groupFor } from './groups.ts';
import { checkSeed } from './limits.ts';
import { N as RSA2048_MODULUS } from './rsa2048/modulus.ts';

/** The challenge input x for a seed, encoded (256 bytes rsa2048, 100-byte BQFC class1024). */
export function deriveInput(group: GroupName, seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  const g = groupFor(group, seed);
  return g.encode(g.input);
}

/**
 * What a third-party solver needs besides the seed to check it computes the same challenge: the
 * class group's discriminant D (negative) for class1024, the RSA modulus N for rsa2048.
 */
export function groupParameter(group: GroupName, seed: Uint8Array): bigint {
  checkSeed(seed);
  return group === 'class1024' ? discriminantFromSeed(seed) : RSA2048_MODULUS;
}
