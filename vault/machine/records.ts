import { VaultError } from '../errors.ts';
import { bytesEqual, concatBytes, open, type SealedShare, toHex, u64 } from '../protocol/index.ts';
import type {
  ApplyContext,
  ClaimRecord,
  ClaimView,
  Effect,
  TenantRecord,
  VaultState,
  WalletRecord,
} from './types.ts';
import type { VdfVerify } from './vdf.ts';

/**
 * One command's application: the state, the context, machine time, the effects being collected
 * and the two keys (checked against the configured public keys on first use). Handlers check
 * everything that can fail before they mutate `s`.
 */
export interface Step {
  s: VaultState;
  ctx: ApplyContext;
  /** Machine time: the proposer's timestamp, never earlier than one already applied. */
  now: number;
  effects: Effect[];
  keys: { clusterSecret(): Uint8Array; receiptSecret(): Uint8Array };
  verifyVdf: VdfVerify;
}

export function tenantOf(s: VaultState, name: string): TenantRecord {
  const t = s.tenants.get(name);
  if (!t) throw new VaultError('TENANT_UNKNOWN', `tenant ${name} is not registered`, 404);
  return t;
}

export function walletOf(s: VaultState, walletId: Uint8Array): WalletRecord {
  const w = s.wallets.get(toHex(walletId));
  if (!w) throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);
  return w;
}

/** A wallet a claim (or a claim nonce) may still be made on: its share is not yet released. */
export function unreleasedWalletOf(s: VaultState, walletId: Uint8Array): WalletRecord {
  const w = walletOf(s, walletId);
  if (w.released) throw new VaultError('WALLET_RELEASED', 'the share was already released', 409);
  return w;
}

export function checkSeq(t: TenantRecord, seq: number): void {
  if (seq <= t.lastSeq) {
    throw new VaultError('STALE_SEQUENCE', `seq must be greater than ${t.lastSeq}`, 409);
  }
}

export function requireEpoch(s: VaultState, epochId: Uint8Array): Uint8Array {
  const epoch = s.epochId;
  if (epoch === null || !bytesEqual(epoch, epochId)) {
    throw new VaultError('EPOCH_MISMATCH', 'the cluster epoch is not current; retry later', 503);
  }
  return epoch;
}

export function liveClaimOf(s: VaultState, w: WalletRecord): ClaimRecord | null {
  if (w.claimId === null) return null;
  const c = s.claims.get(w.claimId);
  return c?.status === 'live' ? c : null;
}

export function endClaim(
  s: VaultState,
  c: ClaimRecord,
  reason: 'ping' | 'epoch' | 'deletion',
  effects: Effect[],
): void {
  c.status = reason === 'epoch' ? 'voided' : 'cancelled';
  const t = s.tenants.get(c.tenant);
  const id = toHex(c.claimId);
  if (t) t.liveClaims = t.liveClaims.filter((x) => x !== id);
  effects.push({
    type: 'claimEnded',
    tenant: c.tenant,
    walletId: c.walletId,
    claimId: c.claimId,
    reason,
  });
}

export function claimView(c: ClaimRecord): ClaimView {
  return {
    claimId: c.claimId,
    walletId: c.walletId,
    ephemeralKey: c.ephemeralKey,
    group: c.group,
    iterations: c.iterations,
    seed: c.seed,
    logIndex: c.logIndex,
    status: c.status,
    release: c.release ? { claimId: c.claimId, walletId: c.walletId, share: c.release } : null,
  };
}

/** Remembers a consumed nonce until it expires, forgetting those already expired. */
export function consumeNonce(
  used: Map<string, number>,
  key: string,
  expiresAt: number,
  now: number,
): void {
  for (const [k, exp] of [...used]) if (now >= exp) used.delete(k);
  used.set(key, expiresAt);
}

/** Opens a deposit's sealed x2. The caller zeroes the result as soon as it is done with it. */
export function openDeposit(step: Step, share: SealedShare, aad: Uint8Array): Uint8Array {
  return open({
    purpose: 'deposit',
    recipientSecretKey: step.keys.clusterSecret(),
    enc: share.enc,
    aad,
    ciphertext: share.ciphertext,
  });
}

/**
 * What a claim nonce is bound to: the wallet and the log position of its current deposit. A
 * nonce minted before a deletion and a new deposit under the same wallet id is thereby dead,
 * although the consumed-nonce set went away with the deleted wallet.
 */
export function claimNonceSubject(w: WalletRecord): Uint8Array {
  return concatBytes(w.walletId, u64(w.logIndex));
}
