/**
 * Pings: a signed answer to a fresh vault nonce. A ping ends every live claim of its tenant (P2)
 * by moving the tenant's last ping index: one record written, whatever the number of claims.
 */
import { VaultError } from '../errors.ts';
import { type Ping, pingBytes, requireSignature, utf8 } from '../protocol/index.ts';
import { checkNonce } from './nonces.ts';
import { isCurrentEpoch, openClaims, type Step, tenantOf, type View } from './records.ts';
import { keys } from './store.ts';
import type { ClaimRecord, CommandResult, PingNonceSlot, TenantRecord } from './types.ts';

/**
 * Slots in a tenant's ring of consumed ping nonces: at most this many pings within one nonce
 * lifetime (a ping a few seconds apart uses ~20). A nonce is remembered until its slot comes
 * round again, which a ping may take only once the nonce there has expired.
 */
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
  if (expiresAt === null || view.read(keys.usedPingNonce(t.name, p.nonce)) !== null) {
    throw new VaultError('PING_NONCE_INVALID', 'ping nonce unknown, used or expired', 409);
  }
  const { signature, ...unsigned } = p;
  requireSignature('ping', signature, pingBytes(config.clusterId, unsigned), t.pingKey);
  consumePingNonce(view, t, { nonce: p.nonce, expiresAt }, now);

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

/** Takes the ring's next slot for `used`, forgetting the nonce there (expired, or PING_RATE). */
function consumePingNonce(view: View, t: TenantRecord, used: PingNonceSlot, now: number): void {
  const slotKey = keys.pingNonceSlot(t.name, t.pingNoncesUsed % MAX_USED_PING_NONCES);
  const oldest = view.read<PingNonceSlot>(slotKey);
  if (oldest !== null) {
    if (now < oldest.expiresAt) {
      throw new VaultError('PING_RATE', 'too many pings within one nonce lifetime; slow down', 429);
    }
    view.delete(keys.usedPingNonce(t.name, oldest.nonce));
  }
  // only its presence is read (its expiry is in the slot)
  view.put(keys.usedPingNonce(t.name, used.nonce), {});
  view.put(slotKey, used);
  t.pingNoncesUsed += 1;
}
