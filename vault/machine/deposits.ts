/** Deposits (with the item-3 share checks) and deletions, both tenant-signed. */
import { VaultError } from '../errors.ts';
import {
  bytesEqual,
  checkSchemeCombination,
  type Deletion,
  type Deposit,
  decodePoint,
  decodeScalar,
  deletionBytes,
  depositAad,
  depositBytes,
  depositReceiptBytes,
  encodePoint,
  Point,
  requireSignature,
  shareDigest,
  signMessage,
  toHex,
} from '../protocol/index.ts';
import { deriveRandom } from './derive.ts';
import { checkSeq, endClaim, openDeposit, type Step, tenantOf } from './records.ts';
import type { CommandResult } from './types.ts';

export function deposit(step: Step, d: Deposit): CommandResult {
  const { s, ctx, effects } = step;
  const t = tenantOf(s, d.tenant);
  checkSeq(t, d.seq);
  const { signature, ...unsigned } = d;
  requireSignature('deposit', signature, depositBytes(s.config.clusterId, unsigned), t.tenantKey);
  const id = toHex(d.walletId);
  if (s.wallets.has(id))
    throw new VaultError('WALLET_EXISTS', 'wallet id already holds a deposit', 409);
  if (t.walletCount >= t.limits.maxWallets) {
    throw new VaultError('WALLET_LIMIT', 'tenant holds its maximum number of wallets', 403);
  }
  const { group, iterations } = d.policy;
  if (!t.limits.groups.includes(group)) {
    throw new VaultError('POLICY_REJECTED', `group ${group} is not allowed for this tenant`);
  }
  if (iterations < t.limits.minIterations || iterations > t.limits.maxIterations) {
    throw new VaultError(
      'POLICY_REJECTED',
      `iterations must be in [${t.limits.minIterations}, ${t.limits.maxIterations}]`,
    );
  }
  checkShare(step, d);

  const logIndex = ctx.logIndex;
  const receiptUnsigned = {
    tenant: d.tenant,
    walletId: d.walletId,
    scheme: d.scheme,
    q: d.q,
    q1: d.q1,
    q2: d.q2,
    policy: { ...d.policy },
    logIndex,
    shareDigest: shareDigest(d.share),
  };
  const receiptSignature = signMessage(
    depositReceiptBytes(s.config.clusterId, receiptUnsigned),
    step.keys.receiptSecret(),
    deriveRandom(ctx, 'receipt-aux'),
  );

  t.lastSeq = d.seq;
  t.walletCount += 1;
  s.wallets.set(id, {
    walletId: d.walletId,
    tenant: d.tenant,
    scheme: d.scheme,
    q: d.q,
    q1: d.q1,
    q2: d.q2,
    policy: { ...d.policy },
    share: { enc: d.share.enc, ciphertext: d.share.ciphertext },
    logIndex,
    receiptSignature,
    released: false,
    claimId: null,
    lastClaimAt: null,
    usedClaimNonces: new Map(),
  });
  effects.push({ type: 'deposited', tenant: d.tenant, walletId: d.walletId });
  return { type: 'deposited', receipt: { ...receiptUnsigned, signature: receiptSignature } };
}

/** Item 3: decrypt; 1 <= x2 < n; x2·G == Q2; the scheme's combination. x2 dies here. */
function checkShare(step: Step, d: Deposit): void {
  const x2Bytes = openDeposit(step, d.share, depositAad(step.s.config.clusterId, d));
  try {
    const x2 = decodeScalar('share', x2Bytes);
    decodePoint('q2', d.q2);
    if (!bytesEqual(encodePoint(Point.BASE.multiply(x2)), d.q2)) {
      throw new VaultError('SHARE_MISMATCH', 'the sealed share does not match Q2');
    }
    checkSchemeCombination({ scheme: d.scheme, q: d.q, q1: d.q1, q2: d.q2, x2 });
  } finally {
    x2Bytes.fill(0);
  }
}

export function deleteWallet(step: Step, d: Deletion): CommandResult {
  const { s, effects } = step;
  const t = tenantOf(s, d.tenant);
  checkSeq(t, d.seq);
  const { signature, ...unsigned } = d;
  requireSignature('deletion', signature, deletionBytes(s.config.clusterId, unsigned), t.tenantKey);
  const id = toHex(d.walletId);
  const w = s.wallets.get(id);
  if (!w || w.tenant !== d.tenant) throw new VaultError('WALLET_NOT_FOUND', 'no such wallet', 404);

  t.lastSeq = d.seq;
  t.walletCount -= 1;
  if (w.claimId !== null) {
    const c = s.claims.get(w.claimId);
    if (c?.status === 'live') endClaim(s, c, 'deletion', effects);
    s.claims.delete(w.claimId);
  }
  s.wallets.delete(id);
  effects.push({ type: 'deleted', tenant: d.tenant, walletId: d.walletId });
  return { type: 'deleted', walletId: d.walletId };
}
