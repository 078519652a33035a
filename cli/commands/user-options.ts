/**
 * What the user commands share: their exit codes (docs/client.md §7), the mapping from client-lib
 * errors to them, the --wallet/--password-file/--vault/--stack options, and opening the wallet.
 */
import type { Command } from 'commander';
import {
  ClientError,
  loadWallet,
  MAX_ENVELOPE_BYTES,
  parseEnvelope,
  readBoundedFile,
  readPassword,
  type ScryptParams,
  VaultClient,
  vaultFetchFor,
  type Wallet,
} from '../../client-lib/index.ts';
import { CliExit } from '../exit.ts';
import { readStack } from '../stack.ts';
import { recordClusterNodes } from './record-nodes.ts';

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
  stack?: string;
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
    c.option('--stack <dir>', "a running local stack's data folder: its vault nodes (npm start)");
  }
  return c;
}

export async function openWallet(
  command: string,
  flags: WalletFlags,
): Promise<{
  wallet: Wallet;
  password: string;
  vault: VaultClient;
  scrypt: ScryptParams;
  /** Vault URLs given by --vault or --stack. */
  given: string[];
}> {
  const given = flags.vault?.length ? flags.vault : await stackUrls(command, flags.stack);
  try {
    const password = await readPassword(
      flags.passwordFile ? { passwordFile: flags.passwordFile } : {},
    );
    const wallet = await loadWallet(flags.wallet, password);
    const vault = new VaultClient(given ?? wallet.vaultUrls, {
      fetch: vaultFetchFor(wallet.attestation),
    });
    // The claim state is encrypted with the same password at the wallet file's own cost.
    const text = (await readBoundedFile(flags.wallet, MAX_ENVELOPE_BYTES)) ?? '';
    const { n, r, p } = parseEnvelope(text, 'wallet').header.kdf;
    return { wallet, password, vault, scrypt: { n, r, p }, given: given ?? [] };
  } catch (err) {
    exitFor(command, err);
  }
}

/**
 * openWallet for a command that talks to the vault: the wallet's list of nodes is refreshed
 * from the cluster's membership first (record-nodes.ts), and the vault client uses it.
 */
export async function openWalletOnline(command: string, flags: WalletFlags) {
  const opened = await openWallet(command, flags);
  const nodes = await recordClusterNodes({
    walletPath: flags.wallet,
    wallet: opened.wallet,
    password: opened.password,
    scrypt: opened.scrypt,
    vault: opened.vault,
    given: opened.given,
  });
  if (nodes.saveError) {
    process.stderr.write(`${command}: could not record the vault nodes: ${nodes.saveError}\n`);
  }
  const vault =
    opened.given.length > 0 ? opened.vault : opened.vault.forNodes(nodes.wallet.vaultUrls);
  return { ...opened, wallet: nodes.wallet, vault, nodes };
}

async function stackUrls(command: string, dir: string | undefined): Promise<string[] | undefined> {
  if (dir === undefined) return undefined;
  const stack = await readStack(dir);
  if (!stack) {
    throw new CliExit(
      EXIT.usage,
      `${command}: no running local stack in ${dir} (no stack.json): start one with \`npm start\``,
    );
  }
  return stack.vaultUrls;
}
