/**
 * A new volatile epoch voids every live claim and keeps deposits (P4). Claims are bound to their
 * epoch and read as void once it is over (records.ts `claimStatus`), so beginning an epoch writes
 * one record; it reads one per tenant to count the claims it voids.
 */
import { VaultError } from '../errors.ts';
import { isCurrentEpoch, openClaims, requireEpoch, type Step, tenantOf } from './records.ts';
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
  const next: EpochRecord = { epochId: ctx.epochId, startIndex: ctx.logIndex, quorumTime: 0 };
  view.put(keys.epoch, next);
  effects.push({ type: 'epochStarted' });
  return { type: 'epochStarted', voidedClaims };
}

/**
 * A committed quorum-clock reading: the cluster admitted it only once a majority of the nodes'
 * clocks had reached it (vault/replicated/quorum-clock.ts). It moves the epoch's quorum time
 * forward, never back; one of an earlier epoch is refused (its clock restarted with the epoch).
 */
export function advanceQuorumTime(step: Step, quorumTime: number): CommandResult {
  const { view, ctx, epoch } = step;
  requireEpoch(epoch, ctx.epochId);
  if (!Number.isSafeInteger(quorumTime) || quorumTime <= (epoch.quorumTime ?? 0)) {
    throw new VaultError('TIME_STALE', 'the quorum clock is already at or past this reading', 409);
  }
  view.put(keys.epoch, { ...epoch, quorumTime });
  return { type: 'time', quorumTime };
}
