/**
 * `vigil recover`: claim, solve with a progress bar and ETA (resumable), submit, and export the
 * private key. A thin shell over client-lib; shared option handling for the user commands.
 */
import type { Command } from 'commander';
import {
  ClientError,
  checkKeyIndependently,
  defaultRecoveryPaths,
  loadWallet,
  MAX_ENVELOPE_BYTES,
  parseEnvelope,
  readBoundedFile,
  readPassword,
  recoverWallet,
  type ScryptParams,
  systemRandom,
  VaultClient,
  type Wallet,
} from '../../client-lib/index.ts';
import { CliExit } from '../exit.ts';
import { progressBar } from '../progress.ts';
import { recoveryReporter } from './recover-report.ts';

/** Exit codes of the user commands (docs/client.md). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  claimCancelled: 3,
  backupInvalid: 4,
  interrupted: 130,
} as const;

export function exitFor(command: string, err: unknown): never {
  if (err instanceof CliExit) throw err;
  if (!(err instanceof ClientError)) throw err;
  const code =
    err.code === 'CLAIM_CANCELLED'
      ? EXIT.claimCancelled
      : err.code === 'ATTESTATION_INVALID' || err.code === 'BACKUP_INVALID'
        ? EXIT.backupInvalid
        : err.code === 'SOLVE_ABORTED'
          ? EXIT.interrupted
          : err.code.startsWith('WALLET_') || err.code === 'PASSWORD_UNAVAILABLE'
            ? EXIT.usage
            : EXIT.failed;
  throw new CliExit(code, `${command}: ${err.message}`);
}

export interface WalletFlags {
  wallet: string;
  passwordFile?: string;
  vault?: string[];
}

export function addWalletOptions(c: Command, vault = true): Command {
  c.requiredOption('--wallet <file>', 'the encrypted wallet file').option(
    '--password-file <file>',
    'read the wallet password from this file (else VIGIL_WALLET_PASSWORD or a prompt)',
  );
  if (vault) {
    c.option(
      '--vault <url>',
      "a vault node URL (repeatable; default: the wallet's vault URLs)",
      (v: string, acc: string[] = []) => [...acc, v],
    );
  }
  return c;
}

export async function openWallet(
  command: string,
  flags: WalletFlags,
): Promise<{ wallet: Wallet; password: string; vault: VaultClient; scrypt: ScryptParams }> {
  try {
    const password = await readPassword(
      flags.passwordFile ? { passwordFile: flags.passwordFile } : {},
    );
    const wallet = await loadWallet(flags.wallet, password);
    const vault = new VaultClient(flags.vault?.length ? flags.vault : wallet.vaultUrls);
    // The claim state is encrypted with the same password at the wallet file's own cost.
    const text = (await readBoundedFile(flags.wallet, MAX_ENVELOPE_BYTES)) ?? '';
    const { n, r, p } = parseEnvelope(text, 'wallet').header.kdf;
    return { wallet, password, vault, scrypt: { n, r, p } };
  } catch (err) {
    exitFor(command, err);
  }
}

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
    .option('--json', 'print the result as one JSON object')
    .action(
      async (
        o: WalletFlags & {
          checkpointDir?: string;
          claimFile?: string;
          newClaim?: boolean;
          watchSeconds: string;
          json?: boolean;
        },
      ) => {
        const watch = Number(o.watchSeconds);
        if (!Number.isFinite(watch) || watch <= 0) {
          throw new CliExit(EXIT.usage, 'vigil recover: --watch-seconds must be a positive number');
        }
        const { wallet, password, vault, scrypt } = await openWallet('vigil recover', o);
        const paths = defaultRecoveryPaths(o.wallet);
        const bar = progressBar(process.stderr, 'solving ');
        const controller = new AbortController();
        const onSigint = () => controller.abort();
        process.once('SIGINT', onSigint);
        process.once('SIGTERM', onSigint);
        try {
          const r = await recoverWallet({
            wallet,
            vault,
            files: {
              claimStatePath: o.claimFile ?? paths.claimStatePath,
              checkpointDir: o.checkpointDir ?? paths.checkpointDir,
              password,
              scrypt,
            },
            random: systemRandom,
            signal: controller.signal,
            watchIntervalMs: watch * 1000,
            ...(o.newClaim ? { fresh: true, renew: true } : {}),
            onEvent: recoveryReporter({ bar, stream: process.stderr, watchSeconds: watch }),
          });
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
