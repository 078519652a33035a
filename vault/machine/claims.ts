/** Claims: a proof of knowledge of x1 answering a claim nonce; one live claim per wallet. */
import { VaultError } from '../errors.ts';
import {
  type Claim,
  challengeSeed,
  checkX25519PublicKey,
  claimIdFor,
  toHex,
  verifyClaimProof,
} from '../protocol/index.ts';
import { checkNonce } from './nonces.ts';
import {
  claimNonceSubject,
  claimView,
  consumeNonce,
  liveClaimOf,
  requireEpoch,
  type Step,
  tenantOf,
  unreleasedWalletOf,
} from './records.ts';
import type { ClaimRecord, CommandResult } from './types.ts';

export function claim(step: Step, c: Claim): CommandResult {
  const { s, ctx, effects, now } = step;
  const w = unreleasedWalletOf(s, c.walletId);
  const epochId = requireEpoch(s, ctx.epochId);
  checkX25519PublicKey('ephemeralKey', c.ephemeralKey);
  const nonceKey = toHex(c.claimNonce);
  const expiresAt = checkNonce({
    kind: 'claim',
    subject: claimNonceSubject(w),
    epochSecret: ctx.epochSecret,
    nonce: c.claimNonce,
    now,
    ttlMs: s.config.claimNonceTtlMs,
  });
  if (expiresAt === null || w.usedClaimNonces.has(nonceKey)) {
    throw new VaultError('CLAIM_NONCE_INVALID', 'claim nonce unknown, used or expired', 409);
  }
  verifyClaimProof(
    w.q1,
    {
      clusterId: s.config.clusterId,
      walletId: c.walletId,
      ephemeralKey: c.ephemeralKey,
      claimNonce: c.claimNonce,
    },
    c.proof,
  );
  const live = liveClaimOf(s, w);
  if (live) {
    consumeNonce(w.usedClaimNonces, nonceKey, expiresAt, now);
    return { type: 'claim', claim: claimView(live), existing: true };
  }
  const t = tenantOf(s, w.tenant);
  if (t.liveClaims.length >= t.limits.maxClaims) {
    throw new VaultError('CLAIM_LIMIT', 'too many live claims for this provider; retry later', 429);
  }
  if (w.lastClaimAt !== null && now - w.lastClaimAt < s.config.claimIntervalMs) {
    throw new VaultError('CLAIM_RATE', 'claims on this wallet are rate limited; retry later', 429);
  }
  const claimId = claimIdFor({
    clusterId: s.config.clusterId,
    epochId,
    logIndex: ctx.logIndex,
    walletId: c.walletId,
  });
  const seed = challengeSeed({
    epochSecret: ctx.epochSecret,
    epochId,
    logIndex: ctx.logIndex,
    clusterId: s.config.clusterId,
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
    status: 'live',
    release: null,
  };
  const id = toHex(claimId);
  consumeNonce(w.usedClaimNonces, nonceKey, expiresAt, now);
  if (w.claimId !== null) s.claims.delete(w.claimId);
  w.claimId = id;
  w.lastClaimAt = now;
  s.claims.set(id, record);
  t.liveClaims = [...t.liveClaims, id].sort();
  effects.push({ type: 'claimStarted', tenant: w.tenant, walletId: c.walletId, claimId });
  return { type: 'claim', claim: claimView(record), existing: false };
}
