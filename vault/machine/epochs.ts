/** A new volatile epoch voids every live claim and keeps deposits (P4). */
import { VaultError } from '../errors.ts';
import { bytesEqual } from '../protocol/index.ts';
import { endClaim, type Step } from './records.ts';
import type { ClaimRecord, CommandResult } from './types.ts';

export function beginEpoch(step: Step): CommandResult {
  const { s, ctx, effects } = step;
  if (s.epochId !== null && bytesEqual(s.epochId, ctx.epochId)) {
    throw new VaultError('EPOCH_CURRENT', 'this epoch has already begun', 409);
  }
  let voidedClaims = 0;
  for (const id of [...s.claims.keys()].sort()) {
    const c = s.claims.get(id) as ClaimRecord;
    if (c.status !== 'live') continue;
    endClaim(s, c, 'epoch', effects);
    voidedClaims += 1;
  }
  // Nonces are keyed to the epoch secret: the old epoch's are invalid now, so forget them.
  for (const w of s.wallets.values()) w.usedClaimNonces.clear();
  for (const t of s.tenants.values()) t.usedPingNonces.clear();
  s.epochId = ctx.epochId;
  effects.push({ type: 'epochStarted' });
  return { type: 'epochStarted', voidedClaims };
}
