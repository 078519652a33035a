/** Claims: a proof of knowledge of x1 answering a claim nonce; one live claim per wallet. */
import { VaultError } from '../errors.ts';
import {
  type Claim,
  challengeSeed,
  checkX25519PublicKey,
  claimIdFor,
  policyKind,
  type VdfGroupName,
  verifyClaimProof,
} from '../protocol/index.ts';
import { checkNonce } from './nonces.ts';
import {
  claimNonceSubject,
  claimView,
  consumeNonce,
  liveClaimOf,
  nonceUsed,
  openClaims,
  requireEpoch,
  type Step,
  tenantOf,
  unreleasedWalletOf,
} from './records.ts';
import { keys } from './store.ts';
import type { ClaimRecord, CommandResult } from './types.ts';

/** Claim ids a tenant's record keeps for the ping that ends them (the count is exact). */
export const RECENT_CLAIMS = 32;
/** Unexpired consumed claim nonces one wallet may hold. */
export const MAX_USED_CLAIM_NONCES = 64;

/**
 * A tenant's `maxClaims` bounds the claims started between two of its pings while it is
 * pinging; once it has been silent this long, the cap no longer applies. The cap thus limits
 * claim churn against a live provider, and nobody can use it to lock owners out of a dead one
 * (issue 11 item 3, docs/threat-model.md).
 */
export const TENANT_SILENT_AFTER_MS = 10 * 60_000;

const DAY_MS = 86_400_000;
/** Claim lifetime: never under a week (docs/protocol.md §7). */
export const CLAIM_LIFETIME_FLOOR_MS = 7 * DAY_MS;
/**
 * The slowest solver a claimant may reasonably use, in squarings per second: Vigil's TypeScript
 * path on a slow machine (a quarter of what it does on this project's 2-vCPU benchmark host).
 * A claim lives eight times what that solver would take, so an honest claimant finishes in time.
 */
const SLOWEST_SOLVER_PER_SECOND: Record<VdfGroupName, number> = {
  rsa2048: 50_000,
  class1024: 5_000,
};

export function claimLifetimeMs(group: VdfGroupName, iterations: number): number {
  const slowest = Math.ceil((8 * iterations * 1000) / SLOWEST_SOLVER_PER_SECOND[group]);
  return Math.max(CLAIM_LIFETIME_FLOOR_MS, slowest);
}

export function claim(step: Step, c: Claim): CommandResult {
  const { view, ctx, effects, now, config, epoch } = step;
  const w = unreleasedWalletOf(view, c.walletId);
  const epochId = requireEpoch(epoch, ctx.epochId);
  checkX25519PublicKey('ephemeralKey', c.ephemeralKey);
  const expiresAt = checkNonce({
    kind: 'claim',
    subject: claimNonceSubject(w),
    epochSecret: ctx.epochSecret,
    nonce: c.claimNonce,
    now,
    ttlMs: config.claimNonceTtlMs,
  });
  if (expiresAt === null || nonceUsed(w.usedClaimNonces, c.claimNonce)) {
    throw new VaultError('CLAIM_NONCE_INVALID', 'claim nonce unknown, used or expired', 409);
  }
  verifyClaimProof(
    w.q1,
    {
      clusterId: config.clusterId,
      walletId: c.walletId,
      ephemeralKey: c.ephemeralKey,
      claimNonce: c.claimNonce,
    },
    c.proof,
  );
  const used = consumeNonce(w.usedClaimNonces, c.claimNonce, expiresAt, now, MAX_USED_CLAIM_NONCES);
  if (used === null) {
    throw new VaultError('CLAIM_RATE', 'claims on this wallet are rate limited; retry later', 429);
  }
  const t = tenantOf(view, w.tenant);
  const walletKey = keys.wallet(c.walletId);
  const live = liveClaimOf(view, epoch, w, now);
  if (live) {
    w.usedClaimNonces = used;
    view.put(walletKey, w);
    return { type: 'claim', claim: claimView(epoch, t, live, now), existing: true };
  }
  const open = openClaims(epoch, t);
  if (open.count >= t.limits.maxClaims && now - t.lastPingAt < TENANT_SILENT_AFTER_MS) {
    throw new VaultError('CLAIM_LIMIT', 'too many live claims for this provider; retry later', 429);
  }
  if (w.lastClaimAt !== null && now - w.lastClaimAt < config.claimIntervalMs) {
    throw new VaultError('CLAIM_RATE', 'claims on this wallet are rate limited; retry later', 429);
  }
  const claimId = claimIdFor({
    clusterId: config.clusterId,
    epochId,
    logIndex: ctx.logIndex,
    walletId: c.walletId,
  });
  const seed = challengeSeed({
    epochSecret: ctx.epochSecret,
    epochId,
    logIndex: ctx.logIndex,
    clusterId: config.clusterId,
    walletId: c.walletId,
    claimId,
    ephemeralKey: c.ephemeralKey,
    claimNonce: c.claimNonce,
    q1: w.q1,
    group: w.policy.group,
    iterations: w.policy.iterations,
  });
  const record: ClaimRecord = {
    claimId,
    walletId: c.walletId,
    tenant: w.tenant,
    ephemeralKey: c.ephemeralKey,
    group: w.policy.group,
    iterations: w.policy.iterations,
    seed,
    logIndex: ctx.logIndex,
    epochId,
    expiresAt: now + claimLifetimeMs(w.policy.group, w.policy.iterations),
    releaseAfter:
      policyKind(w.policy) === 'clock-gated'
        ? (epoch.quorumTime ?? 0) + (w.policy.delaySeconds ?? 0) * 1000
        : null,
    status: 'live',
    release: null,
  };
  if (w.claimId !== null) view.delete(keys.claim(w.claimId));
  w.usedClaimNonces = used;
  w.claimId = claimId;
  w.lastClaimAt = now;
  view.put(walletKey, w);
  view.put(keys.claim(claimId), record);
  t.open = {
    ...open,
    count: open.count + 1,
    recent: [...open.recent, claimId].slice(-RECENT_CLAIMS),
  };
  view.put(keys.tenant(t.name), t);
  effects.push({ type: 'claimStarted', tenant: w.tenant, walletId: c.walletId, claimId });
  return { type: 'claim', claim: claimView(epoch, t, record, now), existing: false };
}
