/** JSON shapes of what the vault returns; binary fields are lowercase hex. */
import type { ClaimView, WalletView } from '../machine/index.ts';
import { releaseToJson, toHex } from '../protocol/index.ts';

export function claimJson(c: ClaimView) {
  return {
    claimId: toHex(c.claimId),
    walletId: toHex(c.walletId),
    ephemeralKey: toHex(c.ephemeralKey),
    group: c.group,
    iterations: c.iterations,
    seed: toHex(c.seed),
    logIndex: c.logIndex,
    expiresAt: c.expiresAt,
    releaseAfter: c.releaseAfter,
    quorumTime: c.quorumTime,
    releasableInSeconds: c.releasableInSeconds,
    status: c.status,
    release: c.release ? releaseToJson(c.release) : null,
  };
}

export function walletJson(w: WalletView) {
  return {
    walletId: toHex(w.walletId),
    tenant: w.tenant,
    scheme: w.scheme,
    q: toHex(w.q),
    q1: toHex(w.q1),
    q2: toHex(w.q2),
    policy: { ...w.policy },
    logIndex: w.logIndex,
    released: w.released,
    liveClaim: w.liveClaim ? claimJson(w.liveClaim) : null,
  };
}
