/** `vigil claim status`: the saved claim and what the vault says about it. */
import type { Command } from 'commander';
import { defaultRecoveryPaths, loadClaimState } from '../../client-lib/index.ts';
import { formatDuration } from '../progress.ts';
import { addWalletOptions, exitFor, openWalletOnline, type WalletFlags } from './user-options.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** A live clock-gated claim: how long until the vault cluster's quorum clock lets it release. */
function clockGate(seconds: number): string {
  return seconds > 0
    ? `clock-gated: releasable in ${formatDuration(seconds)} on the vault cluster's clock ` +
        '(a solution sent sooner is kept and sent again then)'
    : "clock-gated: the delay has passed on the vault cluster's clock; a valid solution releases now";
}

export function registerClaimCommands(program: Command): void {
  const claim = program.command('claim').description('inspect a recovery claim');
  addWalletOptions(
    claim
      .command('status')
      .description('show the saved claim for a wallet and its status at the vault'),
  )
    .option('--claim-file <file>', 'encrypted claim state (default: <wallet>.claim)')
    .option('--json', 'print one JSON object')
    .action(async (o: WalletFlags & { claimFile?: string; json?: boolean }) => {
      const { wallet, password, vault } = await openWalletOnline('vigil claim status', o);
      try {
        const path = o.claimFile ?? defaultRecoveryPaths(o.wallet).claimStatePath;
        const state = await loadClaimState(path, password);
        if (state?.claim && state.release) {
          // Released and stored: nothing to ask the network.
          const id = Buffer.from(state.claim.claimId).toString('hex');
          if (o.json) {
            out(
              JSON.stringify({
                saved: true,
                claimId: id,
                status: 'released',
                group: state.claim.group,
                iterations: state.claim.iterations,
                releaseStored: true,
              }),
            );
          } else {
            out(`claim ${id}: released`);
            out('the release is stored: `vigil recover` finishes offline');
          }
          return;
        }
        const walletStatus = await vault.wallet(wallet.walletId);
        const live = walletStatus.liveClaim;
        if (!state?.claim) {
          const line = live
            ? `no claim saved on this device; the vault has a live claim ${Buffer.from(live.claimId).toString('hex')}`
            : 'no claim saved on this device; no live claim at the vault';
          if (o.json)
            out(
              JSON.stringify({
                saved: false,
                vaultLiveClaim: live !== null,
                released: walletStatus.released,
              }),
            );
          else out(line);
          return;
        }
        const id = Buffer.from(state.claim.claimId).toString('hex');
        const info = await vault.getClaim(state.claim.claimId);
        const summary = {
          saved: true,
          claimId: id,
          status: info.status,
          group: info.group,
          iterations: info.iterations,
          releasableInSeconds: info.releasableInSeconds,
          releaseStored: state.release !== null,
        };
        if (o.json) out(JSON.stringify(summary));
        else {
          out(`claim ${id}: ${info.status}`);
          out(`time lock: ${info.iterations} squarings (${info.group})`);
          if (state.release) out('the release is stored: `vigil recover` finishes offline');
          else if (info.status === 'cancelled')
            out(
              'cancelled by a proof of life from the provider; start over with `vigil recover --new-claim`',
            );
          else if (info.status === 'voided')
            out('voided by a vault cluster restart; start over with `vigil recover --new-claim`');
          else if (info.status === 'expired')
            out('expired (it outlived its lifetime); start over with `vigil recover --new-claim`');
          else if (info.status === 'live') {
            out('live: `vigil recover` solves (or resumes) and submits');
            if (info.releasableInSeconds !== null) out(clockGate(info.releasableInSeconds));
          }
        }
      } catch (err) {
        exitFor('vigil claim status', err);
      }
    });
}
