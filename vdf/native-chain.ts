/** The solver's native evaluation loop per group, or undefined (then the TypeScript path). */
import { discriminantFromSeed, nativeClass1024SquareChain } from './class1024/index.ts';
import type { GroupName, SquareChain } from './group.ts';
import { nativeAddon } from './rsa2048/native.ts';
import { nativeRsaSquareChain } from './rsa2048/native-chain.ts';

/** The chain for `group` when the addon is built and `enabled` (SolveOptions.native). */
export function nativeSquareChain(
  group: GroupName,
  seed: Uint8Array,
  enabled: boolean,
): SquareChain | undefined {
  if (!enabled) return undefined;
  const addon = nativeAddon();
  if (addon === undefined) return undefined;
  if (group === 'rsa2048') return nativeRsaSquareChain(addon);
  return nativeClass1024SquareChain(addon, discriminantFromSeed(seed));
}
