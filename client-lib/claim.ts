/**
 * The claim's steps that need no disk and no solver, so that an app on any platform (the client
 * SDK) and the CLI's resumable recovery (recovery.ts) run the same code: a fresh ephemeral key,
 * the claim (proof of knowledge of x1 bound to the vault's nonce), submitting a solution, and
 * opening the release into the wallet's private key. The caller keeps the claim state (sealed
 * with claim-state.ts) before sending the claim and after each step.
 */
import {
  bytesEqual,
  makeClaim,
  openRelease,
  type Release,
  x25519PublicKey,
} from '../vault/portable.ts';
import type { ClaimState, CommittedClaim } from './claim-state.ts';
import { ClientError } from './errors.ts';
import { reconstructPrivateKey } from './keys.ts';
import type { RandomBytes } from './random.ts';
import { type ClaimInfo, type ClaimStatus, claimEnded, type VaultClient } from './vault-client.ts';
import type { Wallet } from './wallet.ts';

/** A claim state with a fresh ephemeral X25519 key: keep it before sending the claim. */
export function newClaimState(wallet: Wallet, random: RandomBytes): ClaimState {
  const ephemeralSecretKey = random(32);
  return {
    walletId: wallet.walletId,
    ephemeralSecretKey,
    ephemeralKey: x25519PublicKey(ephemeralSecretKey),
    claim: null,
    release: null,
  };
}

/**
 * Sends the claim for `state`'s ephemeral key. Sending it again (after a crash, a lost answer)
 * returns the live claim: the vault keeps one claim per wallet.
 */
export async function sendClaim(args: {
  wallet: Wallet;
  vault: VaultClient;
  state: ClaimState;
  random: RandomBytes;
}): Promise<{ state: ClaimState; existing: boolean }> {
  const { wallet, state } = args;
  const claimNonce = await args.vault.claimNonce(wallet.walletId);
  const claim = makeClaim({
    clusterId: wallet.cluster.clusterId,
    walletId: wallet.walletId,
    ephemeralKey: state.ephemeralKey,
    claimNonce,
    x1: wallet.x1,
    q1: wallet.q1,
    aux: args.random(32),
  });
  const r = await args.vault.claim(claim);
  if (!bytesEqual(r.claim.ephemeralKey, state.ephemeralKey)) {
    throw new ClientError(
      'CLAIM_CONFLICT',
      'another claim on this wallet is already live with a key this device does not hold; ' +
        'it ends when the provider pings or when it is released',
    );
  }
  return { state: { ...state, claim: fromInfo(r.claim) }, existing: r.existing };
}

function fromInfo(c: ClaimInfo): CommittedClaim {
  return {
    claimId: c.claimId,
    seed: c.seed,
    group: c.group,
    iterations: c.iterations,
    logIndex: c.logIndex,
  };
}

/** CLAIM_CANCELLED, saying why the claim ended and what to do. */
export function cancelled(status: ClaimStatus): ClientError {
  const why =
    status === 'cancelled'
      ? 'the wallet provider sent a proof of life (a ping) after the claim began, so the vault ' +
        'cancelled it: your provider is still alive and your wallet works with it. If it goes ' +
        'away again, start a new claim (vigil recover --new-claim).'
      : status === 'voided'
        ? 'the vault cluster restarted and voided every pending claim (rollback protection); ' +
          'start a new claim (vigil recover --new-claim).'
        : status === 'expired'
          ? 'the claim outlived its lifetime (eight times the slowest supported solver, at ' +
            'least a week); start a new claim (vigil recover --new-claim).'
          : `the claim is ${status}`;
  return new ClientError('CLAIM_CANCELLED', `claim no longer live: ${why}`, {
    ...(claimEnded(status) ? { claimStatus: status } : {}),
  });
}

/** Submits the solution; a lost response is recovered from the claim's stored release. */
export async function submitSolution(args: {
  vault: VaultClient;
  claim: CommittedClaim;
  /** y and π, from any solver (the vdf module's, `vigil vdf solve`, ...). */
  solution: { output: Uint8Array; proof: Uint8Array };
}): Promise<Release> {
  try {
    return await args.vault.submitSolution(
      args.claim.claimId,
      args.solution.output,
      args.solution.proof,
    );
  } catch (err) {
    if (!(err instanceof ClientError) || err.code !== 'VAULT_ERROR') throw err;
    if (err.vaultCode !== 'CLAIM_NOT_LIVE' && err.vaultCode !== 'EPOCH_MISMATCH') throw err;
    const c = await args.vault.getClaim(args.claim.claimId);
    if (c.status === 'released' && c.release) return c.release;
    throw cancelled(c.status);
  }
}

/** Opens the release with the ephemeral key, checks x2·G == Q2, rebuilds x and checks x·G == Q. */
export function recoverKey(wallet: Wallet, state: ClaimState): Uint8Array {
  if (!state.claim || !state.release) {
    throw new ClientError('CLAIM_STATE', 'no release stored for this claim yet');
  }
  const x2 = openRelease({
    clusterId: wallet.cluster.clusterId,
    release: state.release,
    seed: state.claim.seed,
    ephemeralSecretKey: state.ephemeralSecretKey,
    ephemeralKey: state.ephemeralKey,
    q2: wallet.q2,
  });
  try {
    return reconstructPrivateKey({
      scheme: wallet.scheme,
      x1: wallet.x1,
      x2,
      q: wallet.q,
      q1: wallet.q1,
      q2: wallet.q2,
    });
  } finally {
    x2.fill(0);
  }
}
