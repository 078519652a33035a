/**
 * The recovery: claim (proof of knowledge of x1, fresh ephemeral key), solve the VDF
 * (checkpoints, progress, resume, cancel), submit, open the release, check x2·G == Q2, rebuild
 * the private key and check x·G == Q. Each step persists what the next one needs, so a crash or a
 * Ctrl-C at any point resumes where it stopped; once the release is stored nothing needs the network.
 */

import { existsSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesEqual, type Release, toHex } from '../vault/index.ts';
import { type SolveProgress, solve, VdfError, type VdfProofRecord } from '../vdf/index.ts';
import { checkProofForClaim } from './challenge-file.ts';
import { cancelled, newClaimState, recoverKey, sendClaim } from './claim.ts';
import type { ClaimState, CommittedClaim } from './claim-state.ts';
import { loadClaimState, saveClaimState } from './claim-state-file.ts';
import { isVaultUnavailable, watchClaim } from './claim-watch.ts';
import type { ScryptParams } from './envelope.ts';
import { ClientError } from './errors.ts';
import { type ExportedKey, exportPrivateKey } from './keys.ts';
import { vaultFetchFor } from './nitro-trust.ts';
import type { RandomBytes } from './random.ts';
import { submitUntilReleased } from './release-wait.ts';
import { claimEnded, type EndedClaimStatus, VaultClient } from './vault-client.ts';
import type { Wallet } from './wallet.ts';

export interface RecoveryFiles {
  /** Encrypted claim state (default: the wallet file's path + ".claim"). */
  claimStatePath: string;
  /** Checkpoint directory root; each claim solves in its own subdirectory. */
  checkpointDir: string;
  password: string;
  scrypt?: ScryptParams;
}

export type RecoveryEvent =
  | { type: 'claim-sent'; resumed: boolean }
  | { type: 'claim-committed'; claim: CommittedClaim; existing: boolean }
  /** A claim committed in an earlier run, taken up again from the claim state. */
  | { type: 'claim-resumed'; claim: CommittedClaim }
  /** The first progress of this run: `done` > 0 when the checkpoints held earlier work. */
  | { type: 'solve-started'; done: number; total: number; phase: SolveProgress['phase'] }
  | { type: 'solve-progress'; progress: SolveProgress }
  | { type: 'solved' }
  /** The vault did not answer (once per outage); the solve, or the wait to submit, goes on. */
  | { type: 'vault-unreachable'; reason: string; while: 'solving' | 'submitting' }
  | { type: 'vault-reachable' }
  /**
   * Clock-gated policy: the solution is ready before the delay has passed on the cluster's
   * quorum clock; `seconds` to go, as the vault's CLOCK_NOT_REACHED said. It is submitted again
   * then, or at the watch interval if sooner (a ping meanwhile ends the recovery).
   */
  | { type: 'waiting-for-delay'; seconds: number }
  /** A claim ended without a release; with `renewing`, a new claim follows. */
  | { type: 'claim-ended'; claimId: Uint8Array; status: EndedClaimStatus; renewing: boolean }
  | { type: 'released'; offline: boolean }
  /** The solver's files for the released claim were deleted (they can run to hundreds of MB). */
  | { type: 'checkpoints-removed'; path: string };

export function defaultRecoveryPaths(walletPath: string): {
  claimStatePath: string;
  checkpointDir: string;
} {
  return { claimStatePath: `${walletPath}.claim`, checkpointDir: `${walletPath}.vdf` };
}

function solveAborted(): ClientError {
  return new ClientError(
    'SOLVE_ABORTED',
    'solve interrupted; run again to resume from the checkpoints',
  );
}

/**
 * Sends a claim, or resumes the saved one. The state (with the ephemeral secret key) is saved
 * before the claim leaves, so a crash in between resends the same key and the vault returns the
 * live claim instead of refusing a second one.
 */
export async function beginClaim(args: {
  wallet: Wallet;
  vault: VaultClient;
  files: RecoveryFiles;
  random: RandomBytes;
  /** Discard a saved claim that is no longer live and start over. */
  fresh?: boolean;
  onEvent?: (e: RecoveryEvent) => void;
}): Promise<ClaimState> {
  const { wallet, files } = args;
  const save = (s: ClaimState) =>
    saveClaimState(files.claimStatePath, s, files.password, {
      random: args.random,
      ...(files.scrypt ? { scrypt: files.scrypt } : {}),
    });
  let state = await loadClaimState(files.claimStatePath, files.password);
  if (state && !bytesEqual(state.walletId, wallet.walletId)) {
    throw new ClientError('CLAIM_STATE', 'the claim state file belongs to another wallet');
  }
  if (state?.release) return state;
  if (state?.claim && args.fresh) {
    // Only a claim that can no longer release is discarded: dropping a live claim's ephemeral
    // key would leave a claim this device can never open, blocking the wallet until it ends.
    const info = await args.vault.getClaim(state.claim.claimId);
    if (claimEnded(info.status)) {
      await rm(join(files.checkpointDir, toHex(state.claim.claimId)), {
        recursive: true,
        force: true,
      });
      state = undefined;
    }
  }
  if (state?.claim) {
    args.onEvent?.({ type: 'claim-resumed', claim: state.claim });
    return state;
  }
  const resumed = state !== undefined;
  if (!state) {
    state = newClaimState(wallet, args.random);
    await save(state);
  }
  args.onEvent?.({ type: 'claim-sent', resumed });
  const sent = await sendClaim({ wallet, vault: args.vault, state, random: args.random });
  state = sent.state;
  await save(state);
  args.onEvent?.({
    type: 'claim-committed',
    claim: state.claim as CommittedClaim,
    existing: sent.existing,
  });
  return state;
}

/**
 * Solves the claim's VDF in `checkpointDir/<claimId>`, resuming from what is there. With `watch`,
 * polls the claim and stops early with CLAIM_CANCELLED when a ping or a restart ends it; a vault
 * it cannot reach does not stop the solve (`onUnreachable` / `onReachable` say so).
 */
export async function solveClaim(args: {
  claim: CommittedClaim;
  checkpointDir: string;
  signal?: AbortSignal;
  onProgress?: (p: SolveProgress) => void;
  watch?: {
    vault: VaultClient;
    intervalMs: number;
    onUnreachable?: (reason: string) => void;
    onReachable?: () => void;
  };
  workers?: 'auto' | 'never' | number;
}): Promise<VdfProofRecord> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  args.signal?.addEventListener('abort', onAbort);
  if (args.signal?.aborted) controller.abort();
  let ended: EndedClaimStatus | undefined;
  const watch = args.watch
    ? watchClaim({
        vault: args.watch.vault,
        claimId: args.claim.claimId,
        intervalMs: args.watch.intervalMs,
        events: {
          onEnded: (status) => {
            ended = status;
            controller.abort();
          },
          ...(args.watch.onUnreachable ? { onUnreachable: args.watch.onUnreachable } : {}),
          ...(args.watch.onReachable ? { onReachable: args.watch.onReachable } : {}),
        },
      })
    : undefined;
  try {
    return await solve({
      group: args.claim.group,
      seed: args.claim.seed,
      iterations: args.claim.iterations,
      checkpointDir: join(args.checkpointDir, toHex(args.claim.claimId)),
      signal: controller.signal,
      ...(args.onProgress ? { onProgress: args.onProgress } : {}),
      ...(args.workers ? { workers: args.workers } : {}),
    });
  } catch (err) {
    if (ended) throw cancelled(ended);
    if (err instanceof VdfError && err.code === 'VDF_ABORTED') throw solveAborted();
    throw err;
  } finally {
    watch?.stop();
    args.signal?.removeEventListener('abort', onAbort);
  }
}

export interface RecoveryResult {
  secretKey: Uint8Array;
  exported: ExportedKey;
  claimId: Uint8Array;
  /** True when the release was already stored and no network was used. */
  offline: boolean;
}

/**
 * The whole recovery, resumable at every step. With `renew`, a claim voided by a cluster restart
 * is replaced by a new one and the recovery goes on; a claim cancelled by a ping still ends it,
 * because the provider is alive and would cancel the next claim too.
 */
export async function recoverWallet(args: {
  wallet: Wallet;
  vault?: VaultClient;
  files: RecoveryFiles;
  random: RandomBytes;
  signal?: AbortSignal;
  fresh?: boolean;
  renew?: boolean;
  watchIntervalMs?: number;
  workers?: 'auto' | 'never' | number;
  /**
   * A proof made elsewhere for the saved claim (challenge-file.ts): it is checked and submitted
   * instead of solving here. The claim must have been begun first (prepareChallenge).
   */
  proof?: VdfProofRecord;
  onEvent?: (e: RecoveryEvent) => void;
}): Promise<RecoveryResult> {
  const { wallet, files } = args;
  const emit = (e: RecoveryEvent) => args.onEvent?.(e);
  const saved = await loadClaimState(files.claimStatePath, files.password);
  if (saved?.release && saved.claim && bytesEqual(saved.walletId, wallet.walletId)) {
    emit({ type: 'released', offline: true });
    const result = finish(wallet, saved, true);
    await removeCheckpoints(files.checkpointDir, saved.claim.claimId, emit);
    return result;
  }
  if (args.proof && !(saved?.claim && bytesEqual(saved.walletId, wallet.walletId))) {
    throw new ClientError(
      'CLAIM_STATE',
      'no claim is saved for this wallet: export its challenge first (vigil recover --export-challenge)',
    );
  }
  const vault =
    args.vault ?? new VaultClient(wallet.vaultUrls, { fetch: vaultFetchFor(wallet.attestation) });
  const reach = reachability(emit);
  let fresh = args.fresh === true;
  for (;;) {
    const state = await beginClaim({
      wallet,
      vault,
      files,
      random: args.random,
      ...(fresh ? { fresh: true } : {}),
      ...(args.onEvent ? { onEvent: args.onEvent } : {}),
    });
    try {
      const release = state.release ?? (await solveAndSubmit(args, vault, state, reach));
      const done = { ...state, release };
      if (!state.release) {
        await saveClaimState(files.claimStatePath, done, files.password, {
          random: args.random,
          ...(files.scrypt ? { scrypt: files.scrypt } : {}),
        });
      }
      emit({ type: 'released', offline: false });
      const result = finish(wallet, done, false);
      await removeCheckpoints(files.checkpointDir, (done.claim as CommittedClaim).claimId, emit);
      return result;
    } catch (err) {
      if (!(err instanceof ClientError) || err.code !== 'CLAIM_CANCELLED' || !err.claimStatus) {
        throw err;
      }
      // a ping proves the provider alive (a new claim would be cancelled too); a restart or the
      // claim's lifetime says nothing about it, so --new-claim starts over
      // (a proof made elsewhere answers this claim only: a new claim needs a new proof)
      const renewing = args.renew === true && err.claimStatus !== 'cancelled' && !args.proof;
      emit({
        type: 'claim-ended',
        claimId: (state.claim as CommittedClaim).claimId,
        status: err.claimStatus,
        renewing,
      });
      if (!renewing) throw err;
      fresh = true;
    }
  }
}

/**
 * Deletes a released claim's checkpoints, and their root when nothing else is in it. Only once
 * the key is rebuilt and checked: the release is then in the claim state, and nothing the solver
 * wrote can be needed again.
 */
async function removeCheckpoints(
  root: string,
  claimId: Uint8Array,
  emit: (e: RecoveryEvent) => void,
): Promise<void> {
  const path = join(root, toHex(claimId));
  if (!existsSync(path)) return;
  await rm(path, { recursive: true, force: true });
  await rmdir(root).catch(() => {}); // not empty (another claim's files): leave it
  emit({ type: 'checkpoints-removed', path });
}

/** Turns failed and good vault answers into one event per outage and one per return. */
function reachability(emit: (e: RecoveryEvent) => void) {
  let down = false;
  return {
    down(reason: string, phase: 'solving' | 'submitting') {
      if (down) return;
      down = true;
      emit({ type: 'vault-unreachable', reason, while: phase });
    },
    up() {
      if (!down) return;
      down = false;
      emit({ type: 'vault-reachable' });
    },
  };
}

/** Checks the claim, solves it (watched), and submits; the vault may be away for any of it. */
async function solveAndSubmit(
  args: Parameters<typeof recoverWallet>[0],
  vault: VaultClient,
  state: ClaimState,
  reach: ReturnType<typeof reachability>,
): Promise<Release> {
  const claim = state.claim as CommittedClaim;
  try {
    const info = await vault.getClaim(claim.claimId);
    reach.up();
    if (info.status === 'released' && info.release) return info.release;
    if (info.status !== 'live') throw cancelled(info.status);
  } catch (err) {
    // A saved claim is solved even while the vault is away: the watch checks it later.
    if (!isVaultUnavailable(err)) throw err;
    reach.down(err.message, 'solving');
  }
  if (args.proof) {
    checkProofForClaim(claim, args.proof);
    return submitUntilAnswered(args, vault, claim, args.proof, reach);
  }
  let started = false;
  const solution = await solveClaim({
    claim,
    checkpointDir: args.files.checkpointDir,
    ...(args.signal ? { signal: args.signal } : {}),
    onProgress: (progress) => {
      if (!started) {
        started = true;
        args.onEvent?.({
          type: 'solve-started',
          done: progress.done,
          total: progress.total,
          phase: progress.phase,
        });
      }
      args.onEvent?.({ type: 'solve-progress', progress });
    },
    ...(args.watchIntervalMs
      ? {
          watch: {
            vault,
            intervalMs: args.watchIntervalMs,
            onUnreachable: (reason: string) => reach.down(reason, 'solving'),
            onReachable: () => reach.up(),
          },
        }
      : {}),
    ...(args.workers ? { workers: args.workers } : {}),
  });
  args.onEvent?.({ type: 'solved' });
  return submitUntilAnswered(args, vault, claim, solution, reach);
}

/**
 * The proof is on disk (a re-run finds it at once), so waiting for the vault, or for a
 * clock-gated delay, loses nothing (release-wait.ts).
 */
function submitUntilAnswered(
  args: Parameters<typeof recoverWallet>[0],
  vault: VaultClient,
  claim: CommittedClaim,
  solution: VdfProofRecord,
  reach: ReturnType<typeof reachability>,
): Promise<Release> {
  return submitUntilReleased({
    vault,
    claim,
    solution,
    ...(args.signal ? { signal: args.signal } : {}),
    intervalMs: args.watchIntervalMs ?? 30_000,
    events: {
      onWaiting: (seconds) => args.onEvent?.({ type: 'waiting-for-delay', seconds }),
      onUnreachable: (reason) => reach.down(reason, 'submitting'),
      onReachable: () => reach.up(),
    },
  });
}

function finish(wallet: Wallet, state: ClaimState, offline: boolean): RecoveryResult {
  const secretKey = recoverKey(wallet, state);
  return {
    secretKey,
    exported: exportPrivateKey(secretKey),
    claimId: (state.claim as CommittedClaim).claimId,
    offline,
  };
}
