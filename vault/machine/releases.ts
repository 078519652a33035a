/** Solutions and releases: P2, P4 and P7 checked, then x2 sealed to the claimant (P1). */
import { VaultError } from '../errors.ts';
import {
  depositAad,
  ELEMENT_BYTES,
  type Release,
  releaseAad,
  type Solution,
  seal,
} from '../protocol/index.ts';
import { deriveSecret } from './derive.ts';
import {
  claimStatus,
  clockNotReached,
  closeClaim,
  openShare,
  requireEpoch,
  type Step,
  secondsUntilReleasable,
  tenantOf,
  walletOf,
} from './records.ts';
import { keys } from './store.ts';
import type { ClaimRecord, CommandResult } from './types.ts';
import type { VdfVerify } from './vdf.ts';

export function solve(step: Step, sol: Solution): CommandResult {
  const { view, ctx, effects, config, epoch, now } = step;
  const claimKey = keys.claim(sol.claimId);
  const c = view.read<ClaimRecord>(claimKey);
  if (!c) throw new VaultError('CLAIM_NOT_FOUND', 'no such claim', 404);
  requireEpoch(epoch, ctx.epochId);
  const t = tenantOf(view, c.tenant);
  // P2 and P4 are decided here, on the log positions and the epoch themselves (claimStatus).
  const status = claimStatus(epoch, t, c, now);
  if (status === 'cancelled') {
    throw new VaultError('CLAIM_NOT_LIVE', 'the provider pinged after the claim began', 409);
  }
  if (status === 'voided') {
    throw new VaultError('CLAIM_NOT_LIVE', 'the claim belongs to an earlier epoch', 409);
  }
  if (status === 'expired') {
    throw new VaultError('CLAIM_NOT_LIVE', 'the claim outlived its lifetime; claim again', 409);
  }
  if (status !== 'live') throw new VaultError('CLAIM_NOT_LIVE', `the claim is ${status}`, 409);
  // clock-gated: checked before the costly VDF verification
  if (c.releaseAfter !== null) {
    const wait = secondsUntilReleasable(c.releaseAfter, epoch.quorumTime ?? 0);
    if (wait > 0) throw clockNotReached(wait);
  }
  const w = walletOf(view, c.walletId);
  const size = ELEMENT_BYTES[c.group];
  if (sol.y.length !== size) {
    throw new VaultError('BAD_LENGTH', `y must be ${size} bytes for ${c.group}`);
  }
  let verdict: ReturnType<VdfVerify>;
  try {
    verdict = step.verifyVdf(
      { group: c.group, seed: c.seed, iterations: c.iterations, output: sol.y, proof: sol.proof },
      { maxIterations: t.limits.maxIterations },
    );
  } catch {
    // A committed entry that throws would stop every replica on the same entry, forever:
    // whatever the verifier does with hostile bytes, the answer is a rejection.
    verdict = { valid: false, kind: 'invalid', code: 'VDF_ERROR', reason: 'verifier failed' };
  }
  if (!verdict.valid) {
    throw new VaultError('VDF_PROOF_INVALID', `VDF proof rejected: ${verdict.reason}`);
  }

  const x2 = openShare(step.keys.clusterKey(), w.share, depositAad(config.clusterId, w));
  let sealed: { enc: Uint8Array; ciphertext: Uint8Array };
  try {
    const aad = releaseAad({
      clusterId: config.clusterId,
      walletId: c.walletId,
      claimId: c.claimId,
      seed: c.seed,
      ephemeralKey: c.ephemeralKey,
      q2: w.q2,
    });
    sealed = seal({
      purpose: 'release',
      recipientPublicKey: c.ephemeralKey,
      senderSecret: deriveSecret(ctx, 'release-key'),
      aad,
      plaintext: x2,
    });
  } finally {
    x2.fill(0);
  }

  c.status = 'released';
  c.release = sealed;
  w.released = true;
  closeClaim(epoch, t, c.claimId);
  view.put(claimKey, c);
  view.put(keys.wallet(c.walletId), w);
  view.put(keys.tenant(t.name), t);
  const release: Release = { claimId: c.claimId, walletId: c.walletId, share: sealed };
  effects.push({ type: 'released', tenant: c.tenant, walletId: c.walletId, claimId: c.claimId });
  return { type: 'released', release };
}
