/**
 * The device's side of solving elsewhere: begin (or resume) the claim exactly as a recovery
 * does, and describe its challenge for another machine. The proof that comes back goes to
 * recoverWallet({ proof }).
 */
import { type ChallengeFile, challengeFor } from './challenge-file.ts';
import type { CommittedClaim } from './claim-state.ts';
import { ClientError } from './errors.ts';
import { beginClaim } from './recovery.ts';
import { claimEnded } from './vault-client.ts';

/** `fresh` replaces a saved claim that was cancelled, voided or expired (as for beginClaim). */
export async function prepareChallenge(
  args: Parameters<typeof beginClaim>[0],
): Promise<ChallengeFile> {
  const state = await beginClaim(args);
  if (state.release) {
    throw new ClientError(
      'CLAIM_STATE',
      'this claim is already released: `vigil recover` finishes offline, no proof needed',
    );
  }
  const claim = state.claim as CommittedClaim;
  const info = await args.vault.getClaim(claim.claimId);
  if (claimEnded(info.status)) {
    throw new ClientError(
      'CLAIM_CANCELLED',
      `the saved claim is ${info.status}: start a new one with --new-claim`,
      { claimStatus: info.status },
    );
  }
  return challengeFor({
    claim,
    walletId: args.wallet.walletId,
    clusterId: args.wallet.cluster.clusterId,
    vaultUrls: args.vault.urls,
  });
}
