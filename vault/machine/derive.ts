import { canonicalHash, u64, utf8 } from '../protocol/index.ts';
import type { ApplyContext } from './types.ts';

/** Named values derived from the proposer's randomness: one draw, many independent uses. */
export function deriveRandom(ctx: ApplyContext, label: string): Uint8Array {
  if (ctx.random.length < 32) throw new Error('context.random: at least 32 bytes required');
  return canonicalHash('vigil/v1/derive', [utf8(label), ctx.random, u64(ctx.logIndex)]);
}
