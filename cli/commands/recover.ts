/**
 * `vigil recover`: claim, solve with a progress bar and ETA (resumable), submit, and export the
 * private key. A thin shell over client-lib.
 */
import type { Command } from 'commander';
import {
  ClientError,
  checkKeyIndependently,
  defaultRecoveryPaths,
  recoverWallet,
  systemRandom,
} from '../../client-lib/index.ts';
import { askYesNo } from '../ask.ts';
import { CliExit } from '../exit.ts';
import { progressBar } from '../progress.ts';
import { exportChallenge, readProof } from './recover-elsewhere.ts';
import { recoveryReporter } from './recover-report.ts';
import {
  addWalletOptions,
  EXIT,
  exitFor,
  openWalletOnline,
  type WalletFlags,
} from './user-options.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerRecoverCommand(program: Command): void {
  const cmd = program
    .command('recover')
    .description(
      'recover the private key without the wallet provider: claim at the vault, solve the time ' +
        'lock (resumable), submit, and export the key (hex, WIF, Ethereum address)',
    );
  addWalletOptions(cmd)
    .option('--checkpoint-dir <dir>', 'VDF checkpoints (default: <wallet>.vdf)')
    .option('--claim-file <file>', 'encrypted claim state (default: <wallet>.claim)')
    .option(
      '--new-claim',
      'start a new claim when the saved one was cancelled or voided, and again whenever a ' +
        'vault cluster restart voids the claim while solving',
    )
    .option('--watch-seconds <s>', 'how often to check that the claim is still live', '30')
    .option(
      '--export-challenge <file>',
      'claim (or resume the saved claim) and write its VDF challenge to this file for a solver on another machine, then stop',
    )
    .option(
      '--proof <file>',
      'submit a proof made elsewhere (vigil vdf solve --challenge, or converted from chiavdf) for the saved claim',
    )
    .option('--json', 'print the result as one JSON object')
    .action(
      async (
        o: WalletFlags & {
          checkpointDir?: string;
          claimFile?: string;
          newClaim?: boolean;
          watchSeconds: string;
          exportChallenge?: string;
          proof?: string;
          json?: boolean;
        },
      ) => {
        const watch = Number(o.watchSeconds);
        if (!Number.isFinite(watch) || watch <= 0) {
          throw new CliExit(EXIT.usage, 'vigil recover: --watch-seconds must be a positive number');
        }
        if (o.exportChallenge !== undefined && o.proof !== undefined) {
          throw new CliExit(
            EXIT.usage,
            'vigil recover: give --export-challenge or --proof, not both',
          );
        }
        if (o.proof !== undefined && o.newClaim) {
          throw new CliExit(
            EXIT.usage,
            'vigil recover: --proof answers the saved claim; a new claim needs a new proof',
          );
        }
        const proof = o.proof === undefined ? undefined : await readProof(o.proof);
        const { wallet, password, vault, scrypt } = await openWalletOnline('vigil recover', o);
        const paths = defaultRecoveryPaths(o.wallet);
        const files = {
          claimStatePath: o.claimFile ?? paths.claimStatePath,
          checkpointDir: o.checkpointDir ?? paths.checkpointDir,
          password,
          scrypt,
        };
        if (o.exportChallenge !== undefined) {
          await exportChallenge({ wallet, vault, files, to: o.exportChallenge, o });
          return;
        }
        const bar = progressBar(process.stderr, 'solving ');
        const controller = new AbortController();
        const onSigint = () => controller.abort();
        process.once('SIGINT', onSigint);
        process.once('SIGTERM', onSigint);
        const recover = (fresh: boolean) =>
          recoverWallet({
            wallet,
            vault,
            files,
            random: systemRandom,
            ...(proof ? { proof } : {}),
            signal: controller.signal,
            watchIntervalMs: watch * 1000,
            ...(fresh ? { fresh: true } : {}),
            ...(o.newClaim ? { renew: true } : {}),
            onEvent: recoveryReporter({ bar, stream: process.stderr, watchSeconds: watch }),
          });
        try {
          let r: Awaited<ReturnType<typeof recover>>;
          for (let fresh = o.newClaim === true; ; fresh = true) {
            try {
              r = await recover(fresh);
              break;
            } catch (err) {
              // A claim that ended: say why, and offer a new one to a person at a terminal
              // (elsewhere, exit 3 and the message name --new-claim).
              if (!(err instanceof ClientError) || err.code !== 'CLAIM_CANCELLED' || o.json) {
                throw err;
              }
              bar.finish();
              const yes = await askYesNo(`${err.message}\nStart a new claim now?`);
              if (yes === undefined) throw err;
              if (!yes) {
                throw new CliExit(
                  EXIT.claimCancelled,
                  'vigil recover: no new claim started; `vigil recover --new-claim` starts one',
                );
              }
            }
          }
          const check = checkKeyIndependently(r.secretKey, wallet.q);
          if (o.json) {
            out(
              JSON.stringify({
                claimId: Buffer.from(r.claimId).toString('hex'),
                ...r.exported,
                check,
              }),
            );
          } else {
            out(`private key (hex):          ${r.exported.hex}`);
            out(`WIF (mainnet, compressed):  ${r.exported.wif}`);
            out(`WIF (testnet, compressed):  ${r.exported.wifTestnet}`);
            out(`public key:                 ${r.exported.publicKey}`);
            out(`Ethereum address:           ${r.exported.ethereumAddress}`);
            out('key check: x·G == Q; an OpenSSL ECDSA signature and a BIP-340 signature verify');
          }
        } catch (err) {
          bar.finish();
          if (err instanceof ClientError && err.code === 'SOLVE_ABORTED') {
            throw new CliExit(
              EXIT.interrupted,
              'vigil recover: interrupted; run the same command again to resume from the checkpoints',
            );
          }
          exitFor('vigil recover', err);
        } finally {
          process.removeListener('SIGINT', onSigint);
          process.removeListener('SIGTERM', onSigint);
        }
      },
    );
}
