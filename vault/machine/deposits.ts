/** Deposits (with the item-3 share checks) and deletions, both tenant-signed. */
import { VaultError } from '../errors.ts';
import {
  checkDepositShare,
  checkSchemeCombination,
  type Deletion,
  type Deposit,
  deletionBytes,
  depositAad,
  depositBytes,
  policyKind,
  requireSignature,
  shareDigest,
  tenantKinds,
  type X25519KeyPair,
} from '../protocol/index.ts';
import { deriveRandom } from './derive.ts';
import { checkSeq, claimStatus, closeClaim, openShare, type Step, tenantOf } from './records.ts';
import { keys } from './store.ts';
import type { ClaimRecord, CommandResult, UnsignedReceipt, WalletRecord } from './types.ts';

export function deposit(step: Step, d: Deposit): CommandResult {
  const { view, ctx, effects, config } = step;
  const t = tenantOf(view, d.tenant);
  checkSeq(t, d.seq);
  const walletKey = keys.wallet(d.walletId);
  if (!ctx.prechecked) verifyDeposit(config.clusterId, t.tenantKey, step.keys.clusterKey(), d);
  if (view.read<WalletRecord>(walletKey) !== null)
    throw new VaultError('WALLET_EXISTS', 'wallet id already holds a deposit', 409);
  if (t.walletCount >= t.limits.maxWallets) {
    throw new VaultError('WALLET_LIMIT', 'tenant holds its maximum number of wallets', 403);
  }
  const { group, iterations } = d.policy;
  const kind = policyKind(d.policy);
  if (!tenantKinds(t.limits).includes(kind)) {
    throw new VaultError('POLICY_REJECTED', `policy kind ${kind} is not offered by this tenant`);
  }
  if (!t.limits.groups.includes(group)) {
    throw new VaultError('POLICY_REJECTED', `group ${group} is not allowed for this tenant`);
  }
  if (iterations < t.limits.minIterations || iterations > t.limits.maxIterations) {
    throw new VaultError(
      'POLICY_REJECTED',
      `iterations must be in [${t.limits.minIterations}, ${t.limits.maxIterations}]`,
    );
  }
  const logIndex = ctx.logIndex;
  const receipt: UnsignedReceipt = {
    tenant: d.tenant,
    walletId: d.walletId,
    scheme: d.scheme,
    q: d.q,
    q1: d.q1,
    q2: d.q2,
    policy: { ...d.policy },
    logIndex,
    shareDigest: shareDigest(d.share),
    aux: deriveRandom(ctx, 'receipt-aux'),
  };

  t.lastSeq = d.seq;
  t.walletCount += 1;
  view.put(keys.tenant(t.name), t);
  view.put(walletKey, {
    walletId: d.walletId,
    tenant: d.tenant,
    scheme: d.scheme,
    q: d.q,
    q1: d.q1,
    q2: d.q2,
    policy: { ...d.policy },
    share: { enc: d.share.enc, ciphertext: d.share.ciphertext },
    logIndex,
    receiptAux: receipt.aux,
    released: false,
    claimId: null,
    lastClaimAt: null,
    usedClaimNonces: [],
  } satisfies WalletRecord);
  effects.push({ type: 'deposited', tenant: d.tenant, walletId: d.walletId });
  return { type: 'deposited', receipt };
}

/**
 * The part of a deposit's checks that no other command can change the outcome of: the tenant's
 * signature (a tenant's key never changes) and the sealed share (item 3: it decrypts under the
 * cluster key; 1 <= x2 < n; x2·G == Q2; the scheme's combination). It is most of a deposit's
 * cost, so a proposer may run it once before proposing, off its main thread, and mark the entry
 * `prechecked` (docs/protocol.md §7): every replica runs the same attested code, so repeating
 * it on each would only spend CPU. x2 dies here.
 */
export function verifyDeposit(
  clusterId: Uint8Array,
  tenantKey: Uint8Array,
  clusterKey: X25519KeyPair,
  d: Deposit,
): void {
  const { signature, ...unsigned } = d;
  requireSignature('deposit', signature, depositBytes(clusterId, unsigned), tenantKey);
  checkSchemeCombination({ clusterId, ...d });
  const x2 = openShare(clusterKey, d.share, depositAad(clusterId, d));
  try {
    checkDepositShare({ q2: d.q2, x2 });
  } finally {
    x2.fill(0);
  }
}

export function deleteWallet(step: Step, d: Deletion): CommandResult {
  const { view, effects, config, epoch, now } = step;
  const t = tenantOf(view, d.tenant);
  checkSeq(t, d.seq);
  const { signature, ...unsigned } = d;
  requireSignature('deletion', signature, deletionBytes(config.clusterId, unsigned), t.tenantKey);
  const walletKey = keys.wallet(d.walletId);
  const w = view.read<WalletRecord>(walletKey);
  if (!w || w.tenant !== d.tenant) throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);

  t.lastSeq = d.seq;
  t.walletCount -= 1;
  if (w.claimId !== null) {
    const claimKey = keys.claim(w.claimId);
    const c = view.read<ClaimRecord>(claimKey);
    if (c !== null && claimStatus(epoch, t, c, now) === 'live') {
      closeClaim(epoch, t, c.claimId);
      effects.push({
        type: 'claimEnded',
        tenant: c.tenant,
        walletId: c.walletId,
        claimId: c.claimId,
        reason: 'deletion',
      });
    }
    view.delete(claimKey);
  }
  view.put(keys.tenant(t.name), t);
  view.delete(walletKey);
  effects.push({ type: 'deleted', tenant: d.tenant, walletId: d.walletId });
  return { type: 'deleted', walletId: d.walletId };
}
