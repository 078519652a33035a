/**
 * A new volatile epoch voids every live claim and keeps deposits (P4). Claims are bound to their
 * epoch and read as void once it is over (records.ts `claimStatus`), so beginning an epoch writes
 * one record; it reads one per tenant to count the claims it voids.
 */
import { VaultError } from '../errors.ts';
import { isCurrentEpoch, openClaims, type Step, tenantOf } from './records.ts';
import { keys } from './store.ts';
import type { CommandResult, EpochRecord } from './types.ts';

export function beginEpoch(step: Step): CommandResult {
  const { view, ctx, effects, epoch } = step;
  if (isCurrentEpoch(epoch, ctx.epochId)) {
    throw new VaultError('EPOCH_CURRENT', 'this epoch has already begun', 409);
  }
  let voidedClaims = 0;
  for (const name of view.tenantNames())
    voidedClaims += openClaims(epoch, tenantOf(view, name)).count;
  const next: EpochRecord = { epochId: ctx.epochId, startIndex: ctx.logIndex };
  view.put(keys.epoch, next);
  effects.push({ type: 'epochStarted' });
  return { type: 'epochStarted', voidedClaims };
}
