/**
 * Submitting a solution until it releases. Under a clock-gated policy an honest solver can finish
 * before the delay has elapsed on the cluster's quorum clock; the vault then refuses the solution
 * with 409 CLOCK_NOT_REACHED and says, as a number, how many seconds are left. The solution stays
 * good, so it is kept, the wait is reported, and it is sent again when the vault said (or sooner,
 * every `intervalMs`, so that a ping that cancels the claim meanwhile ends the wait within that
 * interval). Portable: the SDK and the CLI's recovery run this same code.
 */
import type { Release } from '../vault/portable.ts';
import { submitSolution } from './claim.ts';
import type { CommittedClaim } from './claim-state.ts';
import { isVaultUnavailable } from './claim-watch.ts';
import { ClientError } from './errors.ts';
import type { VaultClient } from './vault-client.ts';

export interface ReleaseWaitEvents {
  /** The vault refused the solution for now: `seconds` left on its quorum clock, as it said. */
  onWaiting?: (seconds: number) => void;
  /** A submission the vault did not answer (network, 502/503); it is sent again. */
  onUnreachable?: (reason: string) => void;
  /** A submission the vault answered. */
  onReachable?: () => void;
}

/** The longest pause setTimeout keeps (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
export const DEFAULT_RESUBMIT_INTERVAL_MS = 60_000;

/**
 * Submits `solution` until the vault releases x2. Ends with the release; CLAIM_CANCELLED (with
 * `claimStatus`) when a ping cancelled the claim, a cluster restart voided it or it expired;
 * SOLVE_ABORTED as soon as `signal` fires (the solution is still good: call again); VAULT_RESPONSE
 * for a CLOCK_NOT_REACHED that does not say how long to wait; any other refusal as it comes.
 */
export async function submitUntilReleased(args: {
  vault: VaultClient;
  claim: CommittedClaim;
  solution: { output: Uint8Array; proof: Uint8Array };
  signal?: AbortSignal;
  /** Longest pause between two submissions (default 60 s). */
  intervalMs?: number;
  events?: ReleaseWaitEvents;
}): Promise<Release> {
  const interval = args.intervalMs ?? DEFAULT_RESUBMIT_INTERVAL_MS;
  if (!Number.isSafeInteger(interval) || interval < 1 || interval > MAX_TIMER_MS) {
    throw new RangeError(`intervalMs must be a whole number of ms in [1, ${MAX_TIMER_MS}]`);
  }
  const events = args.events ?? {};
  for (;;) {
    try {
      const release = await untilAborted(
        submitSolution({ vault: args.vault, claim: args.claim, solution: args.solution }),
        args.signal,
      );
      events.onReachable?.();
      return release;
    } catch (err) {
      const seconds = secondsToWait(err);
      if (seconds !== null) {
        events.onReachable?.();
        events.onWaiting?.(seconds);
        await pause(Math.min(seconds * 1000, interval), args.signal);
        continue;
      }
      if (!isVaultUnavailable(err)) throw err;
      events.onUnreachable?.(err.message);
      await pause(interval, args.signal);
    }
  }
}

/**
 * Seconds the vault says remain before a clock-gated release (its 409 CLOCK_NOT_REACHED's
 * `retryAfterSeconds`); null for any other error. Such an answer without the number is a broken
 * answer, not "retry at once": a guess too short resubmits for nothing (against a vault that
 * counts those attempts, SOLVE_RATE), one too long keeps a locked-out person waiting, so it is a
 * VAULT_RESPONSE error saying so.
 */
export function secondsToWait(err: unknown): number | null {
  if (!(err instanceof ClientError) || err.code !== 'VAULT_ERROR') return null;
  if (err.vaultCode !== 'CLOCK_NOT_REACHED') return null;
  if (err.retryAfterSeconds === undefined) {
    throw new ClientError(
      'VAULT_RESPONSE',
      `${err.message}; the answer carries no retryAfterSeconds (whole seconds ≥ 1), so how long ` +
        'to wait is unknown: the solution is still good, submit it again later',
      { cause: err },
    );
  }
  return err.retryAfterSeconds;
}

function aborted(): ClientError {
  return new ClientError(
    'SOLVE_ABORTED',
    'stopped while waiting to submit the solution; it is still good: submit it again',
  );
}

/**
 * The promise, or SOLVE_ABORTED as soon as the signal fires. A submission left running is
 * harmless: a release it gets stays readable by claim id, and submitSolution recovers it.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => {});
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Waits `ms`, or throws SOLVE_ABORTED as soon as the signal fires. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
