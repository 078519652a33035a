/**
 * Pings: a signed answer to a fresh vault nonce. A ping ends every live claim of its tenant (P2)
 * by moving the tenant's last ping index: one record written, whatever the number of claims.
 */
import { VaultError } from '../errors.ts';
import { type Ping, pingBytes, requireSignature, utf8 } from '../protocol/index.ts';
import { checkNonce } from './nonces.ts';
import {
  consumeNonce,
  isCurrentEpoch,
  nonceUsed,
  openClaims,
  type Step,
  tenantOf,
} from './records.ts';
import { keys } from './store.ts';
import type { ClaimRecord, CommandResult } from './types.ts';

/** Unexpired consumed ping nonces a tenant may hold (a ping a few seconds apart uses ~20). */
export const MAX_USED_PING_NONCES = 1024;

export function ping(step: Step, p: Ping): CommandResult {
  const { view, ctx, effects, now, config, epoch } = step;
  const t = tenantOf(view, p.tenant);
  const expiresAt = checkNonce({
    kind: 'ping',
    subject: utf8(p.tenant),
    epochSecret: ctx.epochSecret,
    nonce: p.nonce,
    now,
    ttlMs: config.pingNonceTtlMs,
  });
  if (expiresAt === null || nonceUsed(t.usedPingNonces, p.nonce)) {
    throw new VaultError('PING_NONCE_INVALID', 'ping nonce unknown, used or expired', 409);
  }
  const { signature, ...unsigned } = p;
  requireSignature('ping', signature, pingBytes(config.clusterId, unsigned), t.pingKey);
  const used = consumeNonce(t.usedPingNonces, p.nonce, expiresAt, now, MAX_USED_PING_NONCES);
  if (used === null) {
    throw new VaultError('PING_RATE', 'too many pings within one nonce lifetime; slow down', 429);
  }

  // The claims this ping ends, as the tenant's record names them (the most recent ones).
  const ended = openClaims(epoch, t);
  const cancelledClaims: Uint8Array[] = [];
  for (const id of ended.recent) {
    const c = view.read<ClaimRecord>(keys.claim(id));
    if (c === null || c.status !== 'live') continue;
    cancelledClaims.push(c.claimId);
    effects.push({
      type: 'claimEnded',
      tenant: c.tenant,
      walletId: c.walletId,
      claimId: c.claimId,
      reason: 'ping',
    });
  }

  t.usedPingNonces = used;
  if (!isCurrentEpoch(epoch, t.lastPingEpoch)) {
    t.earlierEpochPingIndex = t.lastPingIndex;
    t.lastPingEpoch = epoch.epochId;
  }
  t.lastPingIndex = ctx.logIndex;
  t.lastPingAt = now;
  t.open = { epochId: epoch.epochId, sincePing: ctx.logIndex, count: 0, recent: [] };
  view.put(keys.tenant(t.name), t);
  effects.push({ type: 'pinged', tenant: p.tenant });
  return {
    type: 'pinged',
    tenant: p.tenant,
    logIndex: ctx.logIndex,
    cancelledClaims,
    cancelledCount: ended.count,
  };
}
