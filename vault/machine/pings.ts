/** Pings: a signed answer to a fresh vault nonce; cancels the tenant's live claims (P2). */
import { VaultError } from '../errors.ts';
import { type Ping, pingBytes, requireSignature, toHex, utf8 } from '../protocol/index.ts';
import { checkNonce } from './nonces.ts';
import { consumeNonce, endClaim, type Step, tenantOf } from './records.ts';
import type { CommandResult } from './types.ts';

export function ping(step: Step, p: Ping): CommandResult {
  const { s, ctx, effects, now } = step;
  const t = tenantOf(s, p.tenant);
  const key = toHex(p.nonce);
  const expiresAt = checkNonce({
    kind: 'ping',
    subject: utf8(p.tenant),
    epochSecret: ctx.epochSecret,
    nonce: p.nonce,
    now,
    ttlMs: s.config.pingNonceTtlMs,
  });
  if (expiresAt === null || t.usedPingNonces.has(key)) {
    throw new VaultError('PING_NONCE_INVALID', 'ping nonce unknown, used or expired', 409);
  }
  const { signature, ...unsigned } = p;
  requireSignature('ping', signature, pingBytes(s.config.clusterId, unsigned), t.pingKey);

  consumeNonce(t.usedPingNonces, key, expiresAt, now);
  t.lastPingIndex = ctx.logIndex;
  const cancelledClaims: Uint8Array[] = [];
  for (const claimId of [...t.liveClaims]) {
    const c = s.claims.get(claimId);
    if (!c) continue;
    endClaim(s, c, 'ping', effects);
    cancelledClaims.push(c.claimId);
  }
  effects.push({ type: 'pinged', tenant: p.tenant });
  return { type: 'pinged', tenant: p.tenant, logIndex: ctx.logIndex, cancelledClaims };
}
