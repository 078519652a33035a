/**
 * What `vigil recover` tells its user while it works: each recovery event as a line on stderr
 * (or the progress bar on a terminal). Kept apart from the command so the wording lives in one place.
 */
import type { RecoveryEvent } from '../../client-lib/index.ts';
import { formatDuration, type ProgressView } from '../progress.ts';

const WAIT_NOTE_EVERY_MS = 10 * 60_000;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const percent = (done: number, total: number) =>
  `${total > 0 ? ((100 * done) / total).toFixed(1) : '0.0'}%`;

export function recoveryReporter(opts: {
  bar: ProgressView;
  stream: NodeJS.WriteStream;
  watchSeconds: number;
}): (e: RecoveryEvent) => void {
  const { bar, stream } = opts;
  // A note on a terminal first clears the bar's line, which the next update redraws.
  const note = (line: string) => stream.write(`${stream.isTTY ? '\r\x1b[K' : ''}${line}\n`);
  let lastLine = 0;
  let lastWait = 0;
  return (e) => {
    switch (e.type) {
      case 'claim-sent':
        note(e.resumed ? 'resending the saved claim' : 'claim sent');
        break;
      case 'claim-resumed':
        note(`resuming the saved claim ${hex(e.claim.claimId)}`);
        break;
      case 'claim-committed':
        note(
          `claim ${hex(e.claim.claimId)} live: ${e.claim.iterations} squarings (${e.claim.group})`,
        );
        break;
      case 'solve-started':
        if (e.phase === 'prove') note('resuming: the squarings are done; computing the proof');
        else if (e.done > 0)
          note(
            `resuming from ${percent(e.done, e.total)} ` +
              `(${e.done} of ${e.total} squarings already done)`,
          );
        break;
      case 'solve-progress': {
        const p = e.progress;
        const detail = `${p.phase} ${Math.round(p.rate)}/s eta ${formatDuration(p.etaSeconds)}`;
        // Off a terminal (a log file, a service), one line a minute instead of a bar.
        const now = Date.now();
        if (!stream.isTTY && now - lastLine >= 60_000) {
          lastLine = now;
          note(`${p.phase} ${percent(p.done, p.total)} ${detail.slice(p.phase.length + 1)}`);
        }
        bar.update(p.done, p.total, detail);
        break;
      }
      case 'solved':
        bar.finish('solved; submitting');
        break;
      case 'vault-unreachable':
        note(
          // The reason names the node(s) and the cause: "cannot reach the vault at … (…)".
          e.while === 'solving'
            ? `${e.reason}; still solving, and checking the claim again every ` +
                `${opts.watchSeconds} s`
            : `${e.reason}; the solution is saved: submitting again every ` +
                `${opts.watchSeconds} s (Ctrl-C stops; running again resumes)`,
        );
        break;
      case 'vault-reachable':
        note('the vault answers again');
        break;
      case 'waiting-for-delay': {
        // resubmitted every --watch-seconds: say it once, then at most every ten minutes
        const now = Date.now();
        if (lastWait !== 0 && now - lastWait < WAIT_NOTE_EVERY_MS) break;
        note(
          lastWait === 0
            ? `solved before the policy's delay has passed on the cluster's clock: ` +
                `${formatDuration(e.seconds)} to go; the solution is saved and is sent again then`
            : `still waiting for the delay: ${formatDuration(e.seconds)} to go`,
        );
        lastWait = now;
        break;
      }
      case 'claim-ended':
        if (e.renewing)
          note(
            `claim ${hex(e.claimId)} ${e.status === 'expired' ? 'expired' : 'was voided by a vault cluster restart'}; ` +
              'starting a new claim (--new-claim)',
          );
        break;
      case 'checkpoints-removed':
        note(`removed the solver's checkpoints (${e.path}): the key is recovered`);
        break;
      case 'released':
        note(e.offline ? 'release already stored: recovering offline' : 'share released');
        break;
    }
  };
}
