import { canonicalHash, u64, utf8 } from '../protocol/index.ts';
import type { ApplyContext } from './types.ts';

/** Named values derived from the proposer's randomness: one draw, many independent uses. */
export function deriveRandom(ctx: ApplyContext, label: string): Uint8Array {
  if (ctx.random.length < 32) throw new Error('context.random: at least 32 bytes required');
  return canonicalHash('vigil/v1/derive', [utf8(label), ctx.random, u64(ctx.logIndex)]);
}

/**
 * Like deriveRandom, but also keyed by the volatile epoch secret. The proposer's random bytes are
 * committed to the log (and so to disk); a release's sender key derived from them alone could be
 * recomputed by anyone who reads the log, and with it the release opened. Mixing in the epoch
 * secret, which never leaves enclave memory, keeps that key inside the cluster.
 */
export function deriveSecret(ctx: ApplyContext, label: string): Uint8Array {
  if (ctx.random.length < 32) throw new Error('context.random: at least 32 bytes required');
  return canonicalHash('vigil/v1/derive-secret', [
    utf8(label),
    ctx.epochSecret,
    ctx.random,
    u64(ctx.logIndex),
  ]);
}
