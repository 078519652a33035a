/**
 * Watching a claim while its VDF solves: a solve can last weeks, and a claim can end under it (a
 * ping cancels it, a cluster restart voids it), so the solver asks the vault every so often and
 * stops as soon as the answer is final. A vault that cannot answer is not a reason to stop: the
 * solve goes on, and the watcher reports every check, answered or not, so that its caller can
 * say once that the vault is away and once that it is back (recovery.ts does).
 */
import { ClientError } from './errors.ts';
import {
  type ClaimStatus,
  claimEnded,
  type EndedClaimStatus,
  type VaultClient,
} from './vault-client.ts';

export interface ClaimWatchEvents {
  /** The claim ended without a release; the watcher stops after this. */
  onEnded: (status: EndedClaimStatus) => void;
  /** A check the vault did not answer; `reason` names the URL(s) and the cause. */
  onUnreachable?: (reason: string) => void;
  /** A check the vault answered. */
  onReachable?: () => void;
}

/** Errors that say nothing about the claim: the vault was down, restarting or electing. */
export function isVaultUnavailable(err: unknown): err is ClientError {
  return (
    err instanceof ClientError &&
    (err.code === 'VAULT_UNREACHABLE' ||
      (err.code === 'VAULT_ERROR' && (err.status === 502 || err.status === 503)))
  );
}

/** Polls `GET /v1/claims/<id>` every `intervalMs` until stopped or the claim ends. */
export function watchClaim(args: {
  vault: VaultClient;
  claimId: Uint8Array;
  intervalMs: number;
  events: ClaimWatchEvents;
}): { stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const vault = args.vault.singleRound();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(poll, args.intervalMs);
    // A watch never keeps a Node process alive on its own: the solve does. (Browser and React
    // Native timers are plain numbers, with nothing to unref.)
    (timer as { unref?: () => void }).unref?.();
  };
  const poll = async () => {
    let status: ClaimStatus;
    try {
      status = (await vault.getClaim(args.claimId)).status;
    } catch (err) {
      if (!stopped) args.events.onUnreachable?.(err instanceof Error ? err.message : String(err));
      return schedule();
    }
    if (stopped) return;
    args.events.onReachable?.();
    if (claimEnded(status)) {
      stopped = true;
      args.events.onEnded(status);
      return;
    }
    schedule();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
